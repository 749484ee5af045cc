# Registers "Inventory Beacon scheduler": a scheduled task of the current
# user that starts `beacon scheduler` at logon (and now), restarts it if it
# fails, and appends its log to %LOCALAPPDATA%\InventoryBeacon\scheduler.log.
#
#   powershell -ExecutionPolicy Bypass -File .\register-scheduled-task.ps1 [-Exe PATH]
#
# Remove it with: Unregister-ScheduledTask -TaskName "Inventory Beacon scheduler"
param(
    [string]$Exe = "$env:LOCALAPPDATA\Programs\Inventory Beacon\beacon.exe",
    [string]$TaskName = "Inventory Beacon scheduler"
)
$ErrorActionPreference = "Stop"

if (-not (Test-Path $Exe)) {
    throw "beacon.exe is not at $Exe; give its path with -Exe"
}
$logDir = Join-Path $env:LOCALAPPDATA "InventoryBeacon"
New-Item -ItemType Directory -Force -Path $logDir | Out-Null
$log = Join-Path $logDir "scheduler.log"
$user = "$env:USERDOMAIN\$env:USERNAME"

# cmd.exe keeps the log: beacon writes its log to stderr.
$action = New-ScheduledTaskAction -Execute "$env:SystemRoot\System32\cmd.exe" `
    -Argument "/d /c `"`"$Exe`" scheduler >> `"$log`" 2>&1`""
$trigger = New-ScheduledTaskTrigger -AtLogOn -User $user
# No time limit; restart every minute after a failure; never two at once.
$settings = New-ScheduledTaskSettingsSet -ExecutionTimeLimit ([TimeSpan]::Zero) `
    -RestartCount 999 -RestartInterval (New-TimeSpan -Minutes 1) `
    -MultipleInstances IgnoreNew -StartWhenAvailable `
    -AllowStartIfOnBatteries -DontStopIfGoingOnBatteries
# As the logged-on user, so it can read the user's Credential Manager,
# where the refresh tokens and client secrets are kept.
$principal = New-ScheduledTaskPrincipal -UserId $user -LogonType Interactive -RunLevel Limited

Register-ScheduledTask -TaskName $TaskName -Action $action -Trigger $trigger `
    -Settings $settings -Principal $principal -Force `
    -Description "Runs the scheduled Microsoft 365 imports of Inventory Beacon (beacon scheduler). Log: $log" | Out-Null
Start-ScheduledTask -TaskName $TaskName
Write-Host "Registered and started '$TaskName'. Log: $log"
