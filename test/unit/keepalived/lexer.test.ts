import { describe, expect, it } from 'vitest';
import { decomment, lexLine, splitBraces, splitQuotedEscaped, splitWords } from '../../../src/config/keepalived/lexer';

describe('keepalived lexer (lib/parser.c behaviour)', () => {
  it('removes ! and # comments outside double quotes, keeps them inside', () => {
    expect(decomment('  priority 100 # main box').text).toBe('priority 100');
    expect(decomment('priority 100! no space needed').text).toBe('priority 100');
    expect(decomment('script "/bin/x #1 !2" # c').text).toBe('script "/bin/x #1 !2"');
    expect(decomment('! whole line').text).toBe('');
    expect(decomment('# whole line').text).toBe('');
  });

  it('turns \\# and \\! into literal characters outside quotes only', () => {
    expect(decomment('auth_pass pa\\#ss').text).toBe('auth_pass pa#ss');
    expect(decomment('x "a\\#b"').text).toBe('x "a\\#b"');
  });

  it('reports an unterminated quote', () => {
    expect(decomment('script "abc').unterminatedQuote).toBe(true);
  });

  it('cuts lines at braces outside quotes: glued braces and one-line blocks', () => {
    expect(splitBraces('vrrp_instance VI_1{')).toEqual(['vrrp_instance VI_1', '{']);
    expect(splitBraces('virtual_ipaddress { 10.0.0.1/24 dev eth0 }')).toEqual(['virtual_ipaddress', '{', '10.0.0.1/24 dev eth0', '}']);
    expect(splitBraces('}}')).toEqual(['}', '}']);
    expect(splitBraces('script "a{b}"')).toEqual(['script "a{b}"']);
  });

  it('splits words; a "quoted string" is one word without its quotes', () => {
    expect(splitWords('script "killall -0 nginx"').words).toEqual(['script', 'killall -0 nginx']);
    expect(splitWords('a\t b  c').words).toEqual(['a', 'b', 'c']);
    expect(splitWords('ab"cd"').words).toEqual(['ab', 'cd']);
    expect(splitWords('x "unterminated').error).toMatch(/unmatched quote/);
  });

  it('re-parses script lines with single/double quotes and escapes like alloc_strvec_quoted_escaped', () => {
    expect(splitQuotedEscaped(`notify "/x.sh 'a b' \\"c\\""`).words).toEqual(['notify', `/x.sh 'a b' "c"`]);
    expect(splitQuotedEscaped(`/x.sh 'a b' "c"`).words).toEqual(['/x.sh', 'a b', 'c']);
    expect(splitQuotedEscaped('a\\tb \\x41 \\101 \\q').words).toEqual(['a\tb', 'A', 'A', 'q']);
    expect(splitQuotedEscaped('a"b c"d').words).toEqual(['ab cd']);
    expect(splitQuotedEscaped("'open").error).toMatch(/missing terminating '/);
  });

  it('keeps the line number on every statement of a line', () => {
    const { statements } = lexLine('track_script { chk_a weight -5 }', 'f.conf', 7);
    expect(statements.map((s) => [s.words, s.line])).toEqual([
      [['track_script'], 7],
      [['{'], 7],
      [['chk_a', 'weight', '-5'], 7],
      [['}'], 7],
    ]);
  });
});
