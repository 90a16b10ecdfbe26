import ArgumentParser
import Contracts
import Directory
import Foundation
import Postgres
import ConfigFiles

/// `isms assets`: the information asset register (Arts. 4, 9, 18; issue #18 item 0).
struct AssetsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "assets",
        abstract: "The information asset register: import it from a file, list and show assets.",
        subcommands: [Import.self, List.self, Show.self]
    )

    /// An operator's command, like `isms directory import`: the file is the register's source.
    struct Import: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Validate an asset register YAML file and save its assets in one transaction.",
            discussion: """
                Every problem is reported with file:line:column and nothing is saved when there is \
                one; sections and designated handlers are checked against the stored directory, so \
                import the directory first. Assets in the file are created or updated; an asset \
                missing from the file stays (risks and cases name it): retire it with `retired: true`.
                """
        )

        @Argument(help: "The YAML file (deploy/config/assets.yaml is the ward's sample).")
        var file: String

        func run() async throws {
            let parsed: AssetDocument.Parsed
            do {
                parsed = try AssetDocument.load(path: file)
            } catch {
                CLIEnvironment.printError(error.description)
                throw ExitCode(65)
            }
            let (register, file) = (AssetRegister(), file)
            let outcome: Result<[AssetRegister.SaveOutcome], AssetImportError> = try await CLIEnvironment.withDatabase { pool in
                try await pool.withTransaction { connection in
                    var problems: [FileProblem] = []
                    for asset in parsed.assets {
                        problems += try asset.problems(in: register.directory, on: connection).map {
                            parsed.problem(file: file, asset: asset.id, field: $0.field, message: "asset '\(asset.id)': \($0.message)")
                        }
                    }
                    guard problems.isEmpty else { return .failure(AssetImportError(problems: problems)) }
                    return .success(try register.save(parsed.assets, by: "import:\((file as NSString).lastPathComponent)", on: connection))
                }
            }
            switch outcome {
            case .failure(let error):
                CLIEnvironment.printError(error.description)
                throw ExitCode(65)
            case .success(let outcomes):
                let count = { (kind: AssetRegister.SaveOutcome) in outcomes.filter { $0 == kind }.count }
                print("\(outcomes.count) assets: \(count(.created)) created, \(count(.updated)) updated, \(count(.unchanged)) unchanged")
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "The registered assets (through audit-scheduler's API, as your token may see them).", discussion: DutyCLI.discussion)
        @Option(help: "Only this section's assets.") var section: String?
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            let data = try await DutyCLI.get("/v1/assets", query: [("section", section)])
            if json { return try CLIOutput.json(answer: data, key: "assets") }
            let assets = CLIOutput.objects(data, key: "assets")
            CLIOutput.table(
                ["ID", "SECTION", "C", "I", "A", "MY NUMBER", "NAME"],
                assets.map { asset in
                    let classification = asset["classification"] as? [String: Any] ?? [:]
                    return [
                        CLIOutput.text(asset["id"]), CLIOutput.text(asset["sectionCode"]), CLIOutput.text(classification["confidentiality"]),
                        CLIOutput.text(classification["integrity"]), CLIOutput.text(classification["availability"]),
                        asset["myNumber"] == nil ? "-" : "yes", CLIOutput.text(asset["name"]) + (asset["retired"] as? Bool == true ? " (retired)" : ""),
                    ]
                })
            print("\(assets.count) assets")
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "One asset (JSON).", discussion: DutyCLI.discussion)
        @Argument var id: String

        func run() async throws {
            guard RegisteredAsset.isValidID(id) else { throw ValidationError("not an asset id: \(id)") }
            try CLIOutput.json(answer: try await DutyCLI.get("/v1/assets/\(id)"))
        }
    }
}
