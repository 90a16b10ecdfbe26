import WebConsole

try await WebConsoleService.run()
