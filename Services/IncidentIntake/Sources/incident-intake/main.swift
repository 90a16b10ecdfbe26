import IncidentIntake
import ServiceRuntime

try await ServiceRunner.run(IncidentIntakeService.definition())
