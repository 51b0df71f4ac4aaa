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

    /// A JSON string: quotes, backslashes and control characters escaped; everything else as UTF-8, copied in runs
    /// between the bytes that need escaping (a message's line breaks, say) rather than byte by byte.
    static func string(_ value: String, _ buffer: inout ByteBuffer) {
        buffer.writeInteger(UInt8(ascii: "\""))
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
        buffer.writeInteger(UInt8(ascii: "\""))
    }

    static func iso8601(_ date: Date) -> String {
        date.formatted(.iso8601)
    }
}
