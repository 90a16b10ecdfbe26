import Notifier
import ServiceRuntime

try await ServiceRunner.run(NotifierService.definition())
