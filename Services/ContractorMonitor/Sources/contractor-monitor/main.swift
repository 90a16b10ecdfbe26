import ContractorMonitor
import ServiceRuntime

try await ServiceRunner.run(ContractorMonitorService.definition())
