/// The language-specific parts of normalisation: the Snowball stemmer, the ICU word-break locale and the
/// words that stand for numbers.
///
/// ```swift
/// let english = Language.named("english")!
/// ```
public struct Language: Sendable, Hashable {
    /// Snowball algorithm name (`english`, `german`, `finnish`…).
    public var snowballName: String
    /// ICU locale for word segmentation.
    public var locale: String
    /// Number words for this language; empty when none are known.
    public var numberWords: NumberWords

    public init(snowballName: String, locale: String, numberWords: NumberWords = .none) {
        self.snowballName = snowballName
        self.locale = locale
        self.numberWords = numberWords
    }

    /// English with Snowball's English (Porter2) stemmer and English number words.
    public static let english = Language(snowballName: "english", locale: "en", numberWords: .english)

    /// Languages Debian's libstemmer 2.2 offers, with the ICU locale for each.
    public static let snowballLocales: [String: String] = [
        "arabic": "ar", "armenian": "hy", "basque": "eu", "catalan": "ca", "danish": "da", "dutch": "nl",
        "english": "en", "finnish": "fi", "french": "fr", "german": "de", "greek": "el", "hindi": "hi",
        "hungarian": "hu", "indonesian": "id", "irish": "ga", "italian": "it", "lithuanian": "lt", "nepali": "ne",
        "norwegian": "nb", "porter": "en", "portuguese": "pt", "romanian": "ro", "russian": "ru", "serbian": "sr",
        "spanish": "es", "swedish": "sv", "tamil": "ta", "turkish": "tr", "yiddish": "yi",
    ]

    /// The language for a Snowball name, or nil when libstemmer does not know it.
    public static func named(_ name: String) -> Language? {
        if name == "english" { return .english }
        guard let locale = snowballLocales[name] else { return nil }
        return Language(snowballName: name, locale: locale)
    }
}
