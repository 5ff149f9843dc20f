import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOidcTestApp, CITIZEN, type OidcTestApp } from './support.ts';
import { codeFlowTokens, registerRp } from './rp.ts';

describe('subject identifiers', () => {
  let t: OidcTestApp;
  beforeAll(async () => {
    t = await createOidcTestApp('sqlite');
  });
  afterAll(() => t.close());

  async function subjectAt(rp: Awaited<ReturnType<typeof registerRp>>): Promise<string> {
    const tokens = await codeFlowTokens(t, await rp.config());
    return tokens.claims()!.sub;
  }

  it('are pairwise per sector: one citizen is the same within a sector, unlinkable across sectors, and public only on request', async () => {
    const taxA = await subjectAt(await registerRp(t, { sector_identifier: 'soliq.uz' }));
    const taxB = await subjectAt(await registerRp(t, { sector_identifier: 'soliq.uz' }));
    const bank = await subjectAt(await registerRp(t, { sector_identifier: 'bank.example.uz' }));
    const byHost = await subjectAt(await registerRp(t));
    const open = await subjectAt(await registerRp(t, { subject_type: 'public' }));
    expect(taxA).toBe(taxB);
    expect(bank).not.toBe(taxA);
    expect(byHost).not.toBe(taxA);
    expect(new Set([taxA, bank, byHost]).size).toBe(3);
    for (const sub of [taxA, bank, byHost]) {
      expect(sub).not.toContain(CITIZEN.citizenId);
      expect(sub).not.toContain(CITIZEN.pinfl);
    }
    expect(open).toBe(CITIZEN.citizenId);
  });
});
