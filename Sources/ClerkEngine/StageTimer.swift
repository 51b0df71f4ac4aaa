/// Diagnostics for the benchmark: the cost of each stage of a turn on a set of messages, measured by running
/// the stages cumulatively (tokenise; + vocabulary; + pattern match; + examples; full turn).
extension Brain {
    /// Nanoseconds per message for each cumulative stage; `now` reads a monotonic clock in nanoseconds (the
    /// engine itself never reads a clock).
    public func stageCosts(_ messages: [String], now: () -> UInt64) -> [(stage: String, nanosPerMessage: Double)] {
        pool.withScratch { scratch in
            var results: [(String, Double)] = []
            func measure(_ name: String, _ body: (String) -> Void) {
                for message in messages.prefix(200) { body(message) }  // warm up
                let start = now()
                for message in messages { body(message) }
                results.append((name, Double(now() - start) / Double(max(messages.count, 1))))
            }
            measure("tokenize") { lexicon.tokenizer.tokenize($0, into: scratch.tokens) }
            measure("+ vocabulary") {
                lexicon.analyze($0, scratch: scratch, trace: nil)
                recognizeEntities(scratch.utterance)
            }
            measure("+ patterns") {
                lexicon.analyze($0, scratch: scratch, trace: nil)
                recognizeEntities(scratch.utterance)
                _ = trie.match(
                    scratch.utterance, gates: intentGates, contextMask: 0, active: [], scratch: scratch, trace: nil)
            }
            measure("+ examples") {
                lexicon.analyze($0, scratch: scratch, trace: nil)
                recognizeEntities(scratch.utterance)
                _ = trie.match(
                    scratch.utterance, gates: intentGates, contextMask: 0, active: [], scratch: scratch, trace: nil)
                scorer.score(scratch.utterance, floor: Float(settings.clarifyThreshold), scratch: scratch)
            }
            let state = ConversationState()
            measure("full turn") { withExtendedLifetime(decide($0, state, scratch: scratch, trace: nil)) {} }
            return results
        }
    }
}
