; Inno Setup 6 script of the PhotoFix installer for Windows (x64).
;
; Built by packaging/windows/build_windows.ps1 from the PyInstaller folder dist\PhotoFix:
;   ISCC.exe /DAppVersion=0.1.0 /DDistDir=..\..\dist\PhotoFix /DOutputDir=..\..\dist packaging\windows\photofix.iss
; Signing: build_windows.ps1 adds /DSign and /Sphotofixsign=... only when the signing
; variables are set (see README "Signing"); without them the installer is built unsigned.
;
; - per-user install without administrator rights (%LOCALAPPDATA%\Programs\PhotoFix), or for
;   all users when the user chooses it and can elevate;
; - Start-menu entry, optional desktop icon, uninstaller (Settings > Apps);
; - "Open with PhotoFix" for JPEG, PNG and TIFF (PhotoFix never takes the default handler);
; - disk spanning: the payload (torch and the models, about 1 GB) is split into
;   PhotoFix-<version>-setup.exe plus .bin slices, which keeps each file under the 2 GB limit
;   of a single setup executable and the size limits of download hosts.

#ifndef AppVersion
  #define AppVersion "0.0.0"
#endif
#ifndef DistDir
  #define DistDir "..\..\dist\PhotoFix"
#endif
#ifndef OutputDir
  #define OutputDir "..\..\dist"
#endif
#define AppName "PhotoFix"
#define AppExe "PhotoFix.exe"
#define ProgId "PhotoFix.Image"
#define Icons "..\..\resources\icons"

[Setup]
AppId={{6C1E2B57-9F0A-4E43-9C52-2D6B1A5F7E10}
AppName={#AppName}
AppVersion={#AppVersion}
AppVerName={#AppName} {#AppVersion}
AppPublisher=The PhotoFix developers
AppComments=Restoration of scanned photographs
VersionInfoVersion={#AppVersion}
VersionInfoProductVersion={#AppVersion}
VersionInfoDescription={#AppName} installer
VersionInfoCopyright=GPL-3.0-or-later, the PhotoFix developers
DefaultDirName={autopf}\{#AppName}
DefaultGroupName={#AppName}
DisableProgramGroupPage=yes
PrivilegesRequired=lowest
PrivilegesRequiredOverridesAllowed=dialog
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
ChangesAssociations=yes
SetupIconFile={#Icons}\photofix.ico
UninstallDisplayIcon={app}\{#AppExe}
UninstallDisplayName={#AppName} {#AppVersion}
LicenseFile=..\..\LICENSE
OutputDir={#OutputDir}
OutputBaseFilename={#AppName}-{#AppVersion}-setup
Compression=lzma2/max
SolidCompression=no
LZMANumBlockThreads=2
DiskSpanning=yes
DiskSliceSize=max
SlicesPerDisk=1
WizardStyle=modern
MinVersion=10.0
CloseApplications=yes
#ifdef Sign
SignTool=photofixsign
SignedUninstaller=yes
#endif

[Languages]
Name: "english"; MessagesFile: "compiler:Default.isl"

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"; Flags: unchecked

[Files]
Source: "{#DistDir}\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs
Source: "{#Icons}\photofix-file.ico"; DestDir: "{app}"; Flags: ignoreversion

[InstallDelete]
; an upgrade replaces the program's folder: no file of an older version is left to load
Type: filesandordirs; Name: "{app}\_internal"

[Icons]
Name: "{group}\{#AppName}"; Filename: "{app}\{#AppExe}"; Comment: "Restore scanned photographs"
Name: "{group}\Uninstall {#AppName}"; Filename: "{uninstallexe}"
Name: "{autodesktop}\{#AppName}"; Filename: "{app}\{#AppExe}"; Tasks: desktopicon

[Registry]
; the program and what it opens ("Open with" lists it; no default handler is taken)
Root: HKA; Subkey: "Software\Classes\{#ProgId}"; ValueType: string; ValueData: "Image (PhotoFix)"; Flags: uninsdeletekey
Root: HKA; Subkey: "Software\Classes\{#ProgId}\DefaultIcon"; ValueType: string; ValueData: "{app}\photofix-file.ico"
Root: HKA; Subkey: "Software\Classes\{#ProgId}\shell\open"; ValueType: string; ValueName: "FriendlyAppName"; ValueData: "{#AppName}"
Root: HKA; Subkey: "Software\Classes\{#ProgId}\shell\open\command"; ValueType: string; ValueData: """{app}\{#AppExe}"" ""%1"""
Root: HKA; Subkey: "Software\Classes\Applications\{#AppExe}"; ValueType: string; ValueName: "FriendlyAppName"; ValueData: "{#AppName}"; Flags: uninsdeletekey
Root: HKA; Subkey: "Software\Classes\Applications\{#AppExe}\DefaultIcon"; ValueType: string; ValueData: "{app}\photofix-file.ico"
Root: HKA; Subkey: "Software\Classes\Applications\{#AppExe}\shell\open\command"; ValueType: string; ValueData: """{app}\{#AppExe}"" ""%1"""
Root: HKA; Subkey: "Software\Classes\Applications\{#AppExe}\SupportedTypes"; ValueType: string; ValueName: ".jpg"; ValueData: ""
Root: HKA; Subkey: "Software\Classes\Applications\{#AppExe}\SupportedTypes"; ValueType: string; ValueName: ".jpeg"; ValueData: ""
Root: HKA; Subkey: "Software\Classes\Applications\{#AppExe}\SupportedTypes"; ValueType: string; ValueName: ".png"; ValueData: ""
Root: HKA; Subkey: "Software\Classes\Applications\{#AppExe}\SupportedTypes"; ValueType: string; ValueName: ".tif"; ValueData: ""
Root: HKA; Subkey: "Software\Classes\Applications\{#AppExe}\SupportedTypes"; ValueType: string; ValueName: ".tiff"; ValueData: ""
Root: HKA; Subkey: "Software\Classes\.jpg\OpenWithProgids"; ValueType: string; ValueName: "{#ProgId}"; ValueData: ""; Flags: uninsdeletevalue
Root: HKA; Subkey: "Software\Classes\.jpeg\OpenWithProgids"; ValueType: string; ValueName: "{#ProgId}"; ValueData: ""; Flags: uninsdeletevalue
Root: HKA; Subkey: "Software\Classes\.png\OpenWithProgids"; ValueType: string; ValueName: "{#ProgId}"; ValueData: ""; Flags: uninsdeletevalue
Root: HKA; Subkey: "Software\Classes\.tif\OpenWithProgids"; ValueType: string; ValueName: "{#ProgId}"; ValueData: ""; Flags: uninsdeletevalue
Root: HKA; Subkey: "Software\Classes\.tiff\OpenWithProgids"; ValueType: string; ValueName: "{#ProgId}"; ValueData: ""; Flags: uninsdeletevalue

[Run]
Filename: "{app}\{#AppExe}"; Description: "{cm:LaunchProgram,{#AppName}}"; Flags: nowait postinstall skipifsilent

[UninstallDelete]
; files the program writes beside itself (none today); the user's settings, logs and
; downloaded models stay in their profile folders
Type: dirifempty; Name: "{app}"
