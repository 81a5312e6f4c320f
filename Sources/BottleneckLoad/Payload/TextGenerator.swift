/// Writes English-like prose from a built-in word list.
///
/// Tokenizers and text models behave differently on real words than on random letters
/// (vocabulary hits, subword splits), so the text is made of common English words in
/// sentences of 6–20 words with commas and full stops. Each word and each punctuation mark
/// counts as one token, which is close to what BPE tokenizers count for plain English.
import BottleneckCore

enum TextGenerator {
    /// Exactly `tokens` tokens of prose, as UTF-8.
    static func prose(tokens: Int, random: inout SeededRandom) -> String {
        precondition(tokens >= 1)
        var text = ""
        text.reserveCapacity(tokens * 6)
        var remaining = tokens
        while remaining > 0 {
            // A sentence: words, maybe a comma, then a full stop (the stop is one token).
            var length = min(random.uniform(6...20), remaining)
            let endsWithStop = length >= 2
            if endsWithStop { length -= 1 }
            var commaAt = length >= 8 ? random.uniform(3...(length - 3)) : -1
            for position in 0..<length {
                if position == commaAt && position + 1 < length {
                    text += ","
                    commaAt = -1
                    continue
                }
                let word = WordList.words[random.uniform(0...(WordList.words.count - 1))]
                if !text.isEmpty { text += " " }
                if position == 0 {
                    text += word.prefix(1).uppercased() + word.dropFirst()
                } else {
                    text += word
                }
            }
            if endsWithStop { text += "." }
            remaining -= length + (endsWithStop ? 1 : 0)
        }
        return text
    }
}
