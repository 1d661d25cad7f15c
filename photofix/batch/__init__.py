"""Batches at archive scale: a recipe over folders of scans, resumable, with a report.

``photofix batch`` (:mod:`photofix.batch.command`) and the window's Batch dialog both call
:func:`photofix.batch.engine.run_batch`. No Qt here; Ray only in :mod:`.ray_engine`.
"""
