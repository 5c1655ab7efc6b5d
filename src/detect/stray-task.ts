/**
 * A task for an assistant standing on its own line inside a document, about something the document
 * never mentions ("Recommend a good book for a weekend read." between the lines of an invoice
 * e-mail): the shape of BIPIA-style indirect injection, whatever the words. A line is a candidate
 * when one of the rule's patterns matches at its start (an imperative task verb or a knowledge
 * question, ending like a sentence); it is a hit when few of its content words occur anywhere else
 * in the text. Only one-sentence lines count; lines that speak to the reader as "you/your/we/our"
 * (an e-mail asking its human recipient to act) are not candidates, nor are any when the text has
 * more than two task-shaped lines (a how-to).
 */

export interface LineHit {
  index: number
  length: number
  matched: string
}

/** Longer lines are prose (and the rule's raw gate lets through only lines of about this many bytes). */
const MAX_LINE = 240
const MIN_LINE = 16
/** At most this share of a line's content words may occur elsewhere in the text. */
const MAX_SHARED = 0.25
const MIN_CONTENT_WORDS = 2
/** More task-shaped lines than this: the document is instructions for its human reader. */
const MAX_TASK_LINES = 2

/** Who the line speaks to or for: a human reader, the sender's company. ("Can you …" opens a task.) */
const ADDRESSES_READER =
  /\b(?:you(?!\s+(?:please\s+)?(?:show|tell|give|explain|classify|recommend|suggest|help|provide|list|describe|summari[sz]e|analy[sz]e|write|translate|determine|identify|compare))|your|yours|we|us|our)\b/i
const WORD = /[a-z][a-z'-]{3,}/g
const STOP = new Set(
  (
    'about above after again against also among another around because been before being below between both ' +
    'could does doing done down during each else even every from further have having here into just like ' +
    'made make many more most much must need only other over own same should since some such than that ' +
    'their them then there these they this those through under until upon very want were what when where ' +
    'which while will with within without would good best following past year years please kindly ' +
    'provide write give tell show help explain describe list some the and for are how why who recommend ' +
    'suggest summarize summarise analyze analyse determine classify identify outline compare evaluate ' +
    'compose draft create generate develop translate calculate predict discuss define'
  ).split(' '),
)

/** A sentence ends with . ? ! (then maybe a closing quote or bracket), or with a closing quote. */
const SENTENCE_END = /(?:[.?!]["'\u2019\u201d)]?|["'\u2019\u201d])$/
/** A quotation: an apostrophe inside a word ("I'm") neither opens nor closes one. */
const QUOTED =
  /(?<![A-Za-z])'[^\n]{1,300}?'(?![A-Za-z])|"[^"\n]{1,300}"|\u201c[^\u201d\n]{1,300}\u201d|\u2018[^\u2019\n]{1,300}\u2019/g

/** The first words a candidate line may start with: those of the rule's keywords (lower-cased). */
export function openersOf(keywords: string[]): Set<string> {
  return new Set(keywords.map((k) => k.toLowerCase().split(' ')[0]!))
}

/**
 * Task lines unrelated to `text` (`lower`: the same lower-cased; where lower-casing changed its
 * length, a word of the line may count as found elsewhere: fewer hits, never more). `openers`:
 * lower-cased first words a task line may open with (a cheap gate before the patterns); `starts`:
 * the patterns, anchored at the line's start.
 */
export function strayTaskLines(text: string, lower: string, starts: RegExp[], openers: Set<string>): LineHit[] {
  const tasks: LineHit[] = []
  for (let at = 0; at < text.length;) {
    const nl = text.indexOf('\n', at)
    const lineEnd = nl < 0 ? text.length : nl
    const lineStart = at
    at = lineEnd + 1
    if (lineEnd - lineStart < MIN_LINE || lineEnd - lineStart > MAX_LINE) continue
    // cheap gates on characters first: most lines of a long tool result fail them
    let e = lineEnd
    while (e > lineStart && isSpace(text.charCodeAt(e - 1))) e--
    if (!ENDERS.has(text.charCodeAt(e - 1))) continue
    let b = lineStart
    while (b < e && LEAD_CHARS.has(text.charCodeAt(b))) b++
    const first = text.charCodeAt(b)
    if (first < 65 || first > 90) continue // a sentence opens with a capital
    let w = b + 1
    while (w < e && isLetter(text.charCodeAt(w))) w++
    if (!openers.has(text.slice(b, w).toLowerCase())) continue
    const line = text.slice(b, e)
    if (!SENTENCE_END.test(line)) continue
    if (!starts.some((re) => ((re.lastIndex = 0), re.test(line)))) continue
    // quoted material (a tweet to classify, a phrase to translate) speaks for someone else
    const body = line.replace(/^(?:can|could|would|will)\s+you\s+/i, '').replace(QUOTED, ' ')
    if (ADDRESSES_READER.test(body)) continue
    // one sentence: a paragraph of several is prose, not a task slipped in
    if (/[.?!]\s+\S/.test(body.trimEnd())) continue
    // a how-to or a list of steps is made of such lines: an injected task is the odd one out
    if (tasks.length === MAX_TASK_LINES) return []
    tasks.push({index: b, length: line.length, matched: line})
  }
  return tasks.filter((t) => unrelated(t, lower))
}

const ENDERS = new Set([...'.?!"\')\u2019\u201d'].map((c) => c.charCodeAt(0)))
const LEAD_CHARS = new Set([...' \t>*\u2022-'].map((c) => c.charCodeAt(0)))
const isSpace = (c: number) => c === 32 || c === 9 || c === 13
const isLetter = (c: number) => (c >= 97 && c <= 122) || (c >= 65 && c <= 90)

/** Few of the line's content words occur anywhere else in the text (as the start of a word). */
function unrelated(t: LineHit, lower: string): boolean {
  const own = new Set(contentWords(t.matched))
  if (own.size < MIN_CONTENT_WORDS) return false
  let shared = 0
  for (const w of own) if (occursOutside(lower, w, t.index, t.index + t.length)) shared++
  return shared / own.size <= MAX_SHARED
}

function occursOutside(lower: string, w: string, from: number, to: number): boolean {
  for (let p = lower.indexOf(w); p >= 0; p = lower.indexOf(w, p + 1)) {
    if (p >= from && p < to) {
      p = to - 1
      continue
    }
    if (p === 0 || !isLetter(lower.charCodeAt(p - 1))) return true
  }
  return false
}

function contentWords(s: string): string[] {
  const out: string[] = []
  for (const m of s.toLowerCase().matchAll(WORD)) {
    const w = stem(m[0])
    if (!STOP.has(w)) out.push(w)
  }
  return out
}

/** Plural and possessive folded ("sales" and "sale", "user's" and "user"): a cheap stem. */
function stem(w: string): string {
  const t = w.replace(/'s$|'$/, '')
  return t.length > 4 && t.endsWith('s') && !t.endsWith('ss') ? t.slice(0, -1) : t
}
