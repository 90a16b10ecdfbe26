import Contracts
import Hummingbird
import Foundation
import Logging
@testable import ServiceRuntime
import Testing

/// The shared HTTP layer's rules, without servers: the JSON policy for any type, problem
/// documents, 405 with `Allow`, the pagination rule, and free-text screening at the decoder.
@Suite struct HTTPLayerTests {
    /// A type declared outside Contracts: the policy must not depend on where a type lives.
    struct Foreign: Encodable {
        var id: UUID
        var ids: [UUID]
        var byName: [String: UUID]
        var at: Date
        var missing: String?
    }

    @Test func anyTypeEncodesWithTheContractsPolicy() throws {
        let id = UUID(uuidString: "C2A7E5D0-8F1B-4A3C-9E6D-1B2C3D4E5F60")!
        let value = Foreign(id: id, ids: [id], byName: ["b": id], at: Date(timeIntervalSince1970: 1_764_900_000.5), missing: nil)
        let text = String(decoding: try ContractsJSON.encoder().encode(value), as: UTF8.self)
        #expect(
            text
                == #"{"at":"2025-12-05T02:00:00.500Z","byName":{"b":"c2a7e5d0-8f1b-4a3c-9e6d-1b2c3d4e5f60"},"id":"c2a7e5d0-8f1b-4a3c-9e6d-1b2c3d4e5f60","ids":["c2a7e5d0-8f1b-4a3c-9e6d-1b2c3d4e5f60"]}"#
        )
        #expect(!text.contains("C2A7"))
        #expect(throws: EncodingError.self) { try ContractsJSON.encoder().encode([Double.nan]) }
    }

    @Test func aProblemHasTheStandardMembers() throws {
        let problem = APIProblem(.unprocessableContent, title: "The report is invalid", detail: "2 problem(s)", extensions: ["errors": []])
        let response = problem.response
        #expect(response.status == .unprocessableContent)
        #expect(response.headers[.contentType] == "application/problem+json")
        let body = problem.body
        #expect(body["type"] == "https://isms.ward.example/problems/422")
        #expect(body["status"] == .integer(422))
        #expect(body["title"] == "The report is invalid")
        #expect(body["errors"] == .array([]))
        #expect(APIProblem.unauthorized("x").response.headers[.wwwAuthenticate] == "Bearer")
    }

    @Test func aCursorRoundTripsAndForgeriesAreRefused() throws {
        let at = Date(timeIntervalSince1970: 1_764_900_000.123456)
        let cursor = PageCursor(time: at, id: "INC-2026-000042")
        let back = try #require(PageCursor(token: cursor.token))
        #expect(back == cursor)
        #expect(back.time(0) == at)
        #expect(back[1] == "INC-2026-000042")
        #expect(!cursor.token.contains("="))
        #expect(PageCursor(token: "not a cursor") == nil)
        #expect(PageCursor(token: "W10") == nil)  // an empty array
    }

    @Test func aPageHoldsAtMostTheLimitAndSaysWhereToGoOn() {
        let page = PageRequest(limit: 2)
        let (items, next) = page.page([1, 2, 3]) { PageCursor([String($0)]) }
        #expect(items == [1, 2])
        #expect(next == PageCursor(["2"]))
        #expect(page.page([1, 2]) { PageCursor([String($0)]) }.next == nil)
    }

    @Test func freeTextIsScreenedInEveryMemberOfABody() throws {
        struct Comment: Decodable {
            var text: String
            var notes: [String]
        }
        let body = Array(#"{"text":"個人番号 123456789018 を含む書類を誤送付","notes":["マイナンバーは123456789018"]}"#.utf8)
        let comment = try APIRequestDecoder.decode(Comment.self, from: body)
        #expect(!comment.text.contains("123456789018"))
        #expect(comment.text.contains("********9018") || comment.text.contains("****"))
        #expect(!comment.notes[0].contains("123456789018"))
        // Twelve digits with a wrong check digit and no context stay as written.
        #expect(try APIRequestDecoder.decode(Comment.self, from: Array(#"{"text":"ref 123456789012","notes":[]}"#.utf8)).text == "ref 123456789012")
    }

    @Test func aBodyThatDoesNotDecodeNamesTheMember() {
        struct Body: Decodable { var reason: String }
        #expect {
            _ = try APIRequestDecoder.decode(Body.self, from: Array(#"{"reason": 3}"#.utf8))
        } throws: { error in
            (error as? APIProblem)?.status == .badRequest && (error as? APIProblem)?.detail.contains("/reason") == true
        }
        #expect {
            _ = try APIRequestDecoder.decode(Body.self, from: Array("{".utf8))
        } throws: { error in
            (error as? APIProblem)?.status == .badRequest
        }
    }

    @Test func logLinesMaskMyNumbers() {
        let handler = JSONLogHandler(label: "test")
        let event = LogEvent(
            level: .error, message: "comment rejected: 個人番号 123456789018", metadata: ["detail": "123456789018", "nested": ["x": "1234 5678 9018"]],
            source: "t", file: "f.swift", function: "f", line: 1)
        let line = String(decoding: handler.line(event), as: UTF8.self)
        #expect(!line.contains("123456789018"))
        #expect(!line.contains("1234 5678 9018"))
        #expect(line.hasSuffix("\n"))
        #expect(line.contains(#""level":"error""#))
    }
}
