import Contracts
import Foundation
import Testing

/// The canonical form the hash chains are computed over (no servers).
struct CanonicalJSONTests {
    struct Sample: Encodable {
        var zeta = 1
        var alpha = "a/b"
        var at = Date(timeIntervalSince1970: 1_775_000_000.1234)
        var nested: [String: Double] = ["b": 1.5, "a": 2.0]
        var missing: String? = nil
    }

    @Test func sortsMembersDropsWhitespaceAndFollowsTheContractsPolicy() throws {
        #expect(
            try CanonicalJSON.text(of: Sample())
                == #"{"alpha":"a/b","at":"2026-03-31T23:33:20.123Z","nested":{"a":2,"b":1.5},"zeta":1}"#)
    }

    @Test func membersSortByTheirUTF8Bytes() {
        // "Z" (0x5A) < "a" (0x61) < "é" (0xC3 0xA9) < "日" (0xE6...).
        let value: JSONValue = ["日": 1, "a": 2, "é": 3, "Z": 4]
        #expect(value.canonicalText == #"{"Z":4,"a":2,"é":3,"日":1}"#)
    }

    @Test func escapesOnlyWhatJSONRequires() {
        let value: JSONValue = .string("quote \" backslash \\ slash / tab \t newline \n bell \u{07} 日本 🙂")
        #expect(value.canonicalText == #""quote \" backslash \\ slash / tab \t newline \n bell \u0007 日本 🙂""#)
    }

    @Test func anIntegralNumberIsWrittenAsAnInteger() {
        let value: JSONValue = [.number(1.0), .integer(-7), .number(0.25), .null, .bool(true), .array([])]
        #expect(value.canonicalText == "[1,-7,0.25,null,true,[]]")
    }

    @Test func theSameValueParsedFromAnyLayoutGivesTheSameBytes() throws {
        let compact = try JSONValue(parsing: #"{"b":[1,2],"a":{"y":true,"x":null}}"#)
        let spaced = try JSONValue(parsing: "{ \"a\" : { \"x\" : null , \"y\" : true } ,\n \"b\" : [ 1.0 , 2 ] }")
        #expect(compact.canonicalText == spaced.canonicalText)
        #expect(compact.canonicalText == #"{"a":{"x":null,"y":true},"b":[1,2]}"#)
        #expect(compact.canonicalData == Data(compact.canonicalText.utf8))
    }
}
