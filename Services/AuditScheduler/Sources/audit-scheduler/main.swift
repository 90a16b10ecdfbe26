import AuditScheduler
import ServiceRuntime

try await ServiceRunner.run(AuditSchedulerService.definition())
