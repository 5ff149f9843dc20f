import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDialects } from '../support/databases.ts';
import { createOidcTestApp, enrolledCitizen, type Citizen, type OidcTestApp } from './support.ts';
import { codeFlowTokens, registerRp } from './rp.ts';

describe.each(testDialects())('subject identifiers on %s', (dialect) => {
  let t: OidcTestApp;
  let citizen: Citizen;
  beforeAll(async () => {
    t = await createOidcTestApp(dialect);
    citizen = await enrolledCitizen(t);
  });
  afterAll(() => t.close());

  async function subjectAt(rp: Awaited<ReturnType<typeof registerRp>>, who: Citizen = citizen): Promise<string> {
    const tokens = await codeFlowTokens(t, await rp.config(), who);
    return tokens.claims()!.sub;
  }

  it('are pairwise per sector: one citizen is the same within a sector, unlinkable across sectors, and public only on request', async () => {
    const taxA = await registerRp(t, { sector_identifier: 'soliq.uz' });
    const taxB = await registerRp(t, { sector_identifier: 'soliq.uz' });
    const bank = await registerRp(t, { sector_identifier: 'bank.example.uz' });
    const byHost = await registerRp(t);
    const open = await registerRp(t, { subject_type: 'public' });
    const [subA, subB, subBank, subHost, subOpen] = [await subjectAt(taxA), await subjectAt(taxB), await subjectAt(bank), await subjectAt(byHost), await subjectAt(open)];
    expect(subA).toBe(subB);
    expect(subBank).not.toBe(subA);
    expect(subHost).not.toBe(subA);
    expect(new Set([subA, subBank, subHost]).size).toBe(3);
    for (const sub of [subA, subBank, subHost]) {
      expect(sub).not.toContain(citizen.citizenId);
      expect(sub).not.toContain(citizen.pinfl);
    }
    expect(subOpen).toBe(citizen.citizenId);

    // Another citizen in the same sector is another subject.
    const other = await enrolledCitizen(t);
    expect(await subjectAt(taxA, other)).not.toBe(subA);
  });
});
