/// Everyday words of a language that spelling correction leaves alone: when a citizen writes "fall" or "walk"
/// and the brain happens not to know it, correcting it to a content word ("hall", "talk") does more harm than
/// leaving it unknown. Words the brain knows are read as known words before this list is consulted.
public enum CommonWords {
    /// The list for a Snowball language name; empty for languages without one yet.
    public static func words(for language: String) -> [String] {
        language == "english" || language == "porter" ? english : []
    }

    static let english: [String] = """
        a about above across act add after again against age ago agree air all almost alone along already also \
        although always am among an and angry animal another answer any anyone anything anyway anywhere are area \
        arm around arrive as ask at away baby back bad bag ball bank bar be beautiful became because become bed \
        been beer before began begin behind being believe below best better between big bird bit black blue board \
        boat body book born both bottom bought box boy break bring brother brought build built business busy but buy \
        by call came can car care carry case cat catch caught cause center centre certain chair chance change cheap \
        check child choose city class clean clear close cold colour color come common complete could country course \
        cover cry cut dark day dead dear decide deep did die different difficult dinner do does dog done door down \
        draw dream dress drink drive drop dry during each early earth easy eat egg eight either else end enough even \
        evening ever every everyone everything exactly example except expect eye face fact fall family far fast \
        father fear feel feet felt few field fight fill find fine finish fire first fish five floor fly follow food \
        foot for forget form forward found four free friend from front full fun game garden gave get girl give glad \
        go gone good got great green ground group grow guess had half hand happen happy hard has hat have he head \
        hear heard heart heavy held hello help her here high him his hold hole home hope horse hot hour house how \
        however huge hundred hurry husband i idea if ill important in inside instead interest into is it its job \
        join just keep kept kind knew know lady land large last late later laugh lay lead learn least leave left leg \
        less let letter life light like line list listen little live long look lose lot loud love low made make man \
        many mark matter may maybe me mean meet men middle might mind minute miss moment money month more morning \
        most mother move much must my name near need never new next nice night nine no nobody noise none nor nose \
        not nothing notice now number of off often oh old on once one only open or order other our out outside over \
        own page paper part party pass past pay people perhaps person pick piece place plan play please point poor \
        possible pull push put question quick quickly quiet quite rain ran rather reach read ready real really \
        reason red remember rest right river road rock room round run said same sat save saw say school sea second \
        see seem seen sell send sent set seven several shall she ship shop short should show shut sick side simple \
        since sing sister sit six size sleep slow small smile so some someone something sometimes son soon sorry \
        sound speak stand start stay step still stop story street strong such suddenly summer sun sure surprise \
        table take talk tall teach tell ten than thank that the their them then there these they thing think third \
        this those though thought three through time tired to today together told tomorrow too took top touch town \
        tree tried true try turn two under understand until up upon us use used usual usually very wait walk wall \
        want warm was wash watch water way we wear weather week well went were what when where whether which while \
        white who whole why wide wife will win window winter wish with without woman women wonder word work world \
        worry would write wrong year yes yet you young your
        """.split(separator: " ").map(String.init)
}
