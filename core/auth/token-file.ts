/**
 * Static bearer tokens, in the format of kube-apiserver's --token-auth-file: one CSV line per token,
 * `token,user,uid[,"group1,group2"]`. Berth reads `<data-dir>/tokens.csv` when it exists (re-read when the
 * file changes), so scripts and CI can use a token where a client certificate is awkward.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import type { TokenAuthenticator, UserInfo } from './types.ts';

export function parseTokenCsv(text: string): Map<string, UserInfo> {
  const out = new Map<string, UserInfo>();
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (!line || line.startsWith('#')) return;
    const fields = splitCsv(line);
    if (fields.length < 3) throw new Error(`token file line ${i + 1}: want at least token,user,uid`);
    const [token, username, uid, groups] = fields as [string, string, string, string | undefined];
    if (!token || !username) throw new Error(`token file line ${i + 1}: token and user must not be empty`);
    out.set(token, {
      username,
      ...(uid ? { uid } : {}),
      groups: groups
        ? groups
            .split(',')
            .map((g) => g.trim())
            .filter(Boolean)
        : [],
    });
  });
  return out;
}

function splitCsv(line: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') {
        cur += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cur += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      out.push(cur);
      cur = '';
    } else cur += c;
  }
  out.push(cur);
  return out.map((f) => f.trim());
}

export class TokenFileAuthenticator implements TokenAuthenticator {
  private tokens = new Map<string, UserInfo>();
  private mtime = -1;

  constructor(private readonly path: string) {}

  private load(): void {
    if (!existsSync(this.path)) {
      this.tokens = new Map();
      this.mtime = -1;
      return;
    }
    const m = statSync(this.path).mtimeMs;
    if (m === this.mtime) return;
    this.tokens = parseTokenCsv(readFileSync(this.path, 'utf8'));
    this.mtime = m;
  }

  authenticateToken(token: string): UserInfo | undefined {
    this.load();
    const u = this.tokens.get(token);
    return u ? { ...u, groups: [...u.groups] } : undefined;
  }
}
