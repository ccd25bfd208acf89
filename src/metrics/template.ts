import { PhasegateError } from '../errors.js'

// Queries are templates: {{feature}}, {{phase}}, {{group}} and {{window}} (and, for the http
// provider, a few more) are replaced by the run's values. A value must never change what the
// query means, only what it matches, so each provider substitutes through an escaper that knows
// the query language.

export type TemplateValues = Record<string, string | undefined>

const PLACEHOLDER = /\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/g
// The same, matching only where lastIndex points (its own object: lastIndex is shared state).
const PLACEHOLDER_HERE = new RegExp(PLACEHOLDER.source, 'y')

/** The placeholder names a template uses, in order of appearance, without repeats. */
export function placeholders(template: string): string[] {
  return [...new Set([...template.matchAll(PLACEHOLDER)].map(m => m[1]!))]
}

/** Throws a PhasegateError naming the query when a template uses a placeholder that does not exist. */
export function checkPlaceholders(template: string, allowed: readonly string[], where: string) {
  for (const name of placeholders(template)) {
    if (!allowed.includes(name)) {
      throw new PhasegateError(`${where} uses {{${name}}}, which is not a placeholder`, {
        hint: `the placeholders are ${allowed.map(a => `{{${a}}}`).join(', ')}`
      })
    }
  }
}

export type Rendered = { ok: true; text: string } | { ok: false; reason: string }

/** Substitutes every placeholder with `escape(value)`; a missing value or a refused one is a reason. */
export function render(
  template: string,
  values: TemplateValues,
  escape: (value: string, name: string) => string
): Rendered {
  try {
    const text = template.replace(PLACEHOLDER, (_, name: string) => {
      const value = values[name]
      if (value === undefined) throw new RefusedValue(`{{${name}}} has no value here`)
      return escape(value, name)
    })
    return { ok: true, text }
  } catch (error) {
    if (error instanceof RefusedValue) return { ok: false, reason: error.message }
    throw error
  }
}

class RefusedValue extends Error {}

/** Called from an escaper: the value cannot be placed, for this reason; render() returns it. */
export function refuse(reason: string): never {
  throw new RefusedValue(reason)
}

// PromQL: where a placeholder stands decides how its value is written.
//  - inside "..." or '...': escaped as a string literal, so no value can close the string; after
//    =~ or !~ also regex-quoted, so a group named "a|b" matches only "a|b";
//  - inside `...` (raw strings cannot escape anything): refused if it contains a backtick;
//  - anywhere else: only a plain identifier ({{window}}: a duration) is allowed.
type Context = 'code' | 'double' | 'single' | 'raw' | 'comment'

const IDENTIFIER = /^[A-Za-z0-9_:]+$/
const PROM_DURATION = /^(\d+(ms|s|m|h|d|w|y))+$/

/** Renders a PromQL template with every value escaped for the place it stands in. */
export function renderPromQL(template: string, values: TemplateValues): Rendered {
  let out = ''
  let context: Context = 'code'
  let regexString = false
  for (let i = 0; i < template.length;) {
    PLACEHOLDER_HERE.lastIndex = i
    const match = PLACEHOLDER_HERE.exec(template)
    if (match) {
      const name = match[1]!
      const value = values[name]
      if (value === undefined) return { ok: false, reason: `{{${name}}} has no value here` }
      const written = promValue(value, name, context, regexString)
      if (!written.ok) return written
      out += written.text
      i += match[0].length
      continue
    }
    const char = template[i]!
    out += char
    if (context === 'code') {
      if (char === '"' || char === "'") {
        context = char === '"' ? 'double' : 'single'
        regexString = /[=!]~\s*$/.test(out.slice(0, -1))
      } else if (char === '`') context = 'raw'
      else if (char === '#') context = 'comment'
    } else if ((context === 'double' || context === 'single') && char === '\\') {
      out += template[i + 1] ?? ''
      i++
    } else if (
      (context === 'double' && char === '"') ||
      (context === 'single' && char === "'") ||
      (context === 'raw' && char === '`') ||
      (context === 'comment' && char === '\n')
    ) {
      context = 'code'
    }
    i++
  }
  return { ok: true, text: out }
}

function promValue(value: string, name: string, context: Context, regex: boolean): Rendered {
  switch (context) {
    case 'double':
    case 'single': {
      const quote = context === 'double' ? '"' : "'"
      const literal = regex ? quoteRegex(value) : value
      return { ok: true, text: escapeStringLiteral(literal, quote) }
    }
    case 'raw':
      return value.includes('`')
        ? { ok: false, reason: `{{${name}}} value ${JSON.stringify(value)} contains a backtick` }
        : { ok: true, text: value }
    case 'comment':
      return { ok: true, text: value.replace(/[\r\n]/g, ' ') }
    case 'code': {
      const pattern = name === 'window' ? PROM_DURATION : IDENTIFIER
      return pattern.test(value)
        ? { ok: true, text: value }
        : {
            ok: false,
            reason:
              `{{${name}}} value ${JSON.stringify(value)} cannot stand outside quotes in PromQL; ` +
              `write it inside a label matcher's quotes, e.g. group="{{${name}}}"`
          }
    }
  }
}

function escapeStringLiteral(value: string, quote: '"' | "'"): string {
  let out = ''
  for (const char of value) {
    if (char === '\\' || char === quote) out += `\\${char}`
    else if (char === '\n') out += '\\n'
    else if (char === '\r') out += '\\r'
    else if (char === '\t') out += '\\t'
    else if (char < ' ' || char === '\u007f') {
      out += `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`
    } else out += char
  }
  return out
}

/** RE2 (Prometheus's regex engine) metacharacters quoted, as Go's regexp.QuoteMeta does. */
export function quoteRegex(value: string): string {
  return value.replace(/[\\.+*?()|[\]{}^$]/g, '\\$&')
}
