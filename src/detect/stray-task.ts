/**
 * A task for an assistant standing on its own line inside a document, about something the document
 * never mentions ("Recommend a good book for a weekend read." between the lines of an invoice
 * e-mail): the shape of BIPIA-style indirect injection, whatever the words. A line is a candidate
 * when one of the rule's patterns matches at its start (an imperative task verb or a knowledge
 * question, ending like a sentence); it is a hit when few of its content words occur anywhere else
 * in the text. Lines that speak to the reader as "you/your/we/our" (an e-mail asking its human
 * recipient to act) are not candidates.
 */

export interface LineHit {
  index: number
  length: number
  matched: string
}

const MAX_LINE = 400
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
const QUOTED = /'[^'\n]{1,300}'|"[^"\n]{1,300}"|\u201c[^\u201d\n]{1,300}\u201d|\u2018[^\u2019\n]{1,300}\u2019/g
/** Leading list or quote markers are not part of the sentence. */
const LEAD = /^[\s>*•-]*/

export function strayTaskLines(text: string, starts: RegExp[]): LineHit[] {
  const tasks: LineHit[] = []
  for (let at = 0; at < text.length;) {
    const nl = text.indexOf('\n', at)
    const end = nl < 0 ? text.length : nl
    const lineStart = at
    at = end + 1
    if (end - lineStart < MIN_LINE || end - lineStart > MAX_LINE) continue
    const raw = text.slice(lineStart, end)
    const lead = LEAD.exec(raw)![0].length
    const line = raw.slice(lead).trimEnd()
    if (!SENTENCE_END.test(line)) continue
    if (!starts.some((re) => ((re.lastIndex = 0), re.test(line)))) continue
    // quoted material (a tweet to classify, a phrase to translate) speaks for someone else
    const body = line.replace(/^(?:can|could|would|will)\s+you\s+/i, '').replace(QUOTED, ' ')
    if (ADDRESSES_READER.test(body)) continue
    // a how-to or a list of steps is made of such lines: an injected task is the odd one out
    if (tasks.length === MAX_TASK_LINES) return []
    tasks.push({index: lineStart + lead, length: line.length, matched: line})
  }
  if (tasks.length === 0) return []
  const counts = wordCounts(text)
  return tasks.filter((t) => unrelated(t.matched, counts))
}

/** Few of the line's content words occur anywhere else in the text. */
function unrelated(line: string, counts: Map<string, number>): boolean {
  const own = new Map<string, number>()
  for (const w of contentWords(line)) own.set(w, (own.get(w) ?? 0) + 1)
  if (own.size < MIN_CONTENT_WORDS) return false
  let shared = 0
  for (const [w, n] of own) if ((counts.get(w) ?? 0) > n) shared++
  return shared / own.size <= MAX_SHARED
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

function wordCounts(text: string): Map<string, number> {
  const counts = new Map<string, number>()
  for (const m of text.toLowerCase().matchAll(WORD)) {
    const w = stem(m[0])
    counts.set(w, (counts.get(w) ?? 0) + 1)
  }
  return counts
}
