"""Network architectures in plain torch (imported only when a model is built).

State-dict keys follow the upstream projects (BasicSR / Real-ESRGAN, waifu2x, IPOL FFDNet),
so checkpoints in their published layouts load unchanged. Every network maps N×C×H×W float
tensors in [0, 1] to N×C×(sH)×(sW).
"""
