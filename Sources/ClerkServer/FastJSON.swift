import ClerkEngine
import Foundation
import NIOCore

/// Writes the JSON of a turn straight into a buffer: the same document `TurnJSON` encodes (keys sorted, as the
/// encoder sorts them), without Foundation's `JSONEncoder`, which costs more than the rest of a turn on Linux.
enum FastJSON {
    static func turn(_ reply: BotReply) -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.reserveCapacity(512)
        buffer.writeStaticString("{\"handoff\":")
        string(reply.handoff.rawValue, &buffer)
        buffer.writeStaticString(",\"intent\":")
        optional(reply.intent, &buffer)
        buffer.writeStaticString(",\"links\":[")
        for (index, link) in reply.links.enumerated() {
            if index > 0 { buffer.writeStaticString(",") }
            buffer.writeStaticString("{\"title\":")
            string(link.title, &buffer)
            buffer.writeStaticString(",\"url\":")
            string(link.url, &buffer)
            buffer.writeStaticString("}")
        }
        buffer.writeStaticString("],\"messages\":[")
        for (index, message) in reply.messages.enumerated() {
            if index > 0 { buffer.writeStaticString(",") }
            buffer.writeStaticString("{\"text\":")
            string(message, &buffer)
            buffer.writeStaticString("}")
        }
        buffer.writeStaticString("],\"outcome\":")
        string(reply.outcome, &buffer)
        buffer.writeStaticString(",\"quick_replies\":[")
        for (index, option) in reply.quickReplies.enumerated() {
            if index > 0 { buffer.writeStaticString(",") }
            string(option, &buffer)
        }
        buffer.writeStaticString("],\"service\":")
        optional(reply.service, &buffer)
        buffer.writeStaticString(",\"ticket\":")
        if let ticket = reply.ticket {
            buffer.writeStaticString("{\"reference\":")
            string(ticket.reference, &buffer)
            if let due = ticket.replyBy {
                buffer.writeStaticString(",\"reply_by\":")
                string(iso8601(due), &buffer)
            }
            buffer.writeStaticString(",\"status\":")
            string(ticket.status, &buffer)
            buffer.writeStaticString("}")
        } else {
            buffer.writeStaticString("null")
        }
        buffer.writeStaticString(",\"turn_id\":")
        string(reply.turnID, &buffer)
        buffer.writeStaticString("}")
        return buffer
    }

    private static func optional(_ value: String?, _ buffer: inout ByteBuffer) {
        if let value { string(value, &buffer) } else { buffer.writeStaticString("null") }
    }

    /// A JSON string: quotes, backslashes and control characters escaped; everything else as UTF-8. Nearly every
    /// string needs no escaping: it is copied whole and checked eight bytes at a time; one that does (a message's
    /// line breaks, say) is copied in runs between the bytes that need escaping.
    static func string(_ value: String, _ buffer: inout ByteBuffer) {
        buffer.writeInteger(UInt8(ascii: "\""))
        let start = buffer.writerIndex
        buffer.writeString(value)
        // Read in place: a slice of the buffer would share its storage, and the next write would copy it all.
        let offset = start - buffer.readerIndex
        if buffer.withUnsafeReadableBytes({ needsEscaping(UnsafeRawBufferPointer(rebasing: $0[offset...])) }) {
            buffer.moveWriterIndex(to: start)
            escaped(value, &buffer)
        }
        buffer.writeInteger(UInt8(ascii: "\""))
    }

    /// Whether any byte is a control character, a quote or a backslash.
    static func needsEscaping(_ bytes: UnsafeRawBufferPointer) -> Bool {
        // Per byte of a word: below 0x20, or equal to a quote or a backslash (equal: x ^ c below 1). Bytes of
        // 0x80 and above never match (`& ~word`), so multi-byte UTF-8 passes.
        let ones: UInt64 = 0x0101_0101_0101_0101
        let highs: UInt64 = 0x8080_8080_8080_8080
        func below(_ word: UInt64, _ limit: UInt64) -> UInt64 { (word &- ones &* limit) & ~word & highs }
        var offset = 0
        while offset + 8 <= bytes.count {
            let word = UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
            let quote = word ^ (ones &* UInt64(UInt8(ascii: "\"")))
            let backslash = word ^ (ones &* UInt64(UInt8(ascii: "\\")))
            if below(word, 0x20) | below(quote, 1) | below(backslash, 1) != 0 { return true }
            offset += 8
        }
        for byte in bytes[offset...] where byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") {
            return true
        }
        return false
    }

    /// The string's UTF-8 with escapes, copied in runs between the bytes that need them.
    private static func escaped(_ value: String, _ buffer: inout ByteBuffer) {
        var value = value
        value.withUTF8 { bytes in
            var start = 0
            for index in bytes.indices {
                let byte = bytes[index]
                guard byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") else { continue }
                if index > start {
                    buffer.writeBytes(UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: bytes[start..<index])))
                }
                start = index + 1
                switch byte {
                case UInt8(ascii: "\""): buffer.writeStaticString("\\\"")
                case UInt8(ascii: "\\"): buffer.writeStaticString("\\\\")
                case UInt8(ascii: "\n"): buffer.writeStaticString("\\n")
                case UInt8(ascii: "\r"): buffer.writeStaticString("\\r")
                case UInt8(ascii: "\t"): buffer.writeStaticString("\\t")
                default: buffer.writeString(String(format: "\\u%04x", byte))
                }
            }
            if start < bytes.count {
                buffer.writeBytes(UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: bytes[start...])))
            }
        }
    }

    static func iso8601(_ date: Date) -> String {
        date.formatted(.iso8601)
    }
}
