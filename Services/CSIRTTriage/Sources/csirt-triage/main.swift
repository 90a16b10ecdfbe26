import CSIRTTriage
import ServiceRuntime

try await ServiceRunner.run(CSIRTTriageService.definition())
