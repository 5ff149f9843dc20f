import { afterAll, describe, expect, it } from 'vitest';
import type { BrowserContext, Page } from 'playwright-core';
import { inviteOperator } from '../../server/src/enrollment/index.ts';
import { demoRegistryCitizens } from '../../server/src/identity/registry/demo-data.ts';
import { testDialects } from '../../server/test/support/databases.ts';
import { addVirtualAuthenticator, collectPageErrors, heading, headingOrAlert, skipBrowser } from './support/browser.ts';
import { serverAndBrowser } from './support/suite.ts';

const SCREENSHOTS = process.env.TASDIQ_SCREENSHOTS ?? '/tmp';

/** A PINFL with its last (check) digit changed, which the server must name precisely. */
function withWrongCheckDigit(pinfl: string): string {
  return pinfl.slice(0, 13) + String((Number(pinfl[13]) + 1) % 10);
}

describe.skipIf(skipBrowser).each(testDialects())('operator console in Chromium on %s', (dialect) => {
  const suite = serverAndBrowser(dialect);
  let context: BrowserContext;
  let page: Page;
  let citizenId = '';
  const pageErrors: string[][] = [];

  /** The newest development SMS to a phone, read in the console's inbox page like a tester would. */
  async function readSmsCode(phone: string, notCode?: string): Promise<string> {
    const inbox = await context.newPage();
    pageErrors.push(collectPageErrors(inbox));
    await inbox.goto(`${suite.server.url}/console/`);
    await inbox.getByRole('link', { name: 'Development SMS inbox' }).click();
    await expect.poll(() => heading(inbox)).toBe('Development SMS inbox');
    await expect.poll(() => inbox.getByRole('note').textContent()).toContain('DEVELOPMENT ONLY');
    await inbox.getByLabel('Recipient phone', { exact: true }).fill(phone);
    let code = '';
    await expect
      .poll(
        async () => {
          await inbox.getByRole('button', { name: /Show messages|Refresh/ }).click();
          await inbox.waitForLoadState('networkidle');
          const text = (await inbox.getByTestId('dev-sms-text').first().textContent({ timeout: 500 }).catch(() => null)) ?? '';
          code = /\b(\d{6})\b/.exec(text)?.[1] ?? '';
          return code !== '' && code !== notCode;
        },
        { timeout: 15_000, interval: 250 },
      )
      .toBe(true);
    await inbox.close();
    return code;
  }

  afterAll(async () => {
    await context?.close();
  });

  it('registers a passkey, signs in with it, enrolls a citizen, binds a phone by SMS code and issues an activation code; the audit log shows each step', async () => {
    // The same service function `tasdiq operator create-admin` uses.
    const invitation = await inviteOperator(
      suite.server.app.context.db,
      { name: 'Dilnoza Demo', role: 'admin', officeId: 'psc-tk-01', createdBy: 'cli', createdByOffice: null, publicUrl: suite.server.url },
      Date.now(),
    );
    context = await suite.browser.newContext({ viewport: { width: 1280, height: 900 } });
    page = await context.newPage();
    pageErrors.push(collectPageErrors(page));
    const { cdp, authenticatorId } = await addVirtualAuthenticator(context, page);

    // Registration from the invitation link, in the default language, then switched to English.
    await page.goto(invitation.registrationUrl);
    await expect.poll(() => heading(page)).toBe('Kirish kalitingizni yarating');
    await page.getByLabel('Til', { exact: true }).selectOption('en');
    await expect.poll(() => heading(page)).toBe('Create your passkey');
    await expect.poll(() => page.getByText('Dilnoza Demo: you are invited as administrator at office Public Services Center, Tashkent City.').count()).toBe(1);
    await page.getByRole('button', { name: 'Create a passkey' }).click();
    await expect.poll(() => headingOrAlert(page), { timeout: 10_000 }).toBe('Find a citizen');
    expect(new URL(page.url()).pathname).toBe('/console/');
    const { credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
    expect(credentials).toHaveLength(1);
    expect(credentials[0]!.isResidentCredential).toBe(true);

    // Sign out, then in again with the passkey alone.
    await page.getByRole('button', { name: 'Sign out' }).click();
    await expect.poll(() => heading(page)).toBe('Sign in');
    expect((await page.request.get(`${suite.server.url}/api/v1/operator/session`)).status()).toBe(401);
    await page.getByRole('button', { name: 'Sign in with a passkey' }).click();
    await expect.poll(() => heading(page), { timeout: 10_000 }).toBe('Find a citizen');
    await expect.poll(() => page.getByText('Dilnoza Demo, administrator').count()).toBe(1);

    // A mistyped PINFL gets the server's precise reason; the right one finds the record.
    const inAYear = new Date(Date.now() + 366 * 86_400_000).toISOString().slice(0, 10);
    const citizen = demoRegistryCitizens().find((c) => c.documents.some((d) => d.expiresOn > inAYear))!;
    const pinflInput = page.getByRole('textbox', { name: 'PINFL', exact: true });
    await pinflInput.fill(withWrongCheckDigit(citizen.pinfl));
    await page.getByRole('button', { name: 'Search the registry' }).click();
    await expect.poll(() => page.getByRole('alert').getAttribute('data-code')).toBe('pinfl_check_digit_mismatch');
    expect(await pinflInput.getAttribute('aria-invalid')).toBe('true');
    await pinflInput.fill(citizen.pinfl);
    await page.getByRole('button', { name: 'Search the registry' }).click();
    await expect.poll(() => page.getByTestId('citizen-name').textContent()).toBe(
      `${citizen.name.latn.surname} ${citizen.name.latn.given} ${citizen.name.latn.patronymic}`,
    );
    expect(await page.getByTestId('enrollment-status').textContent()).toBe('Not enrolled');
    // The same person found by the document they hold.
    const idCard = citizen.documents.find((d) => d.kind === 'id_card')!;
    await page.getByRole('radio', { name: 'Document' }).check();
    await page.getByLabel('Series', { exact: true }).fill(idCard.series.toLowerCase());
    await page.getByLabel('Number', { exact: true }).fill(idCard.number);
    await page.getByRole('button', { name: 'Search the registry' }).click();
    await expect.poll(() => page.getByTestId('citizen-name').textContent()).toBe(
      `${citizen.name.latn.surname} ${citizen.name.latn.given} ${citizen.name.latn.patronymic}`,
    );

    // Enroll with a valid presented document.
    await page.getByRole('button', { name: 'Enroll this citizen' }).click();
    await expect.poll(() => heading(page)).toMatch(/^Citizen record: /);
    expect(new URL(page.url()).pathname).toMatch(/^\/console\/citizens\/cit_/);
    await expect.poll(() => page.getByTestId('enrollment-status').textContent()).toMatch(/^active/);
    // Focus follows the navigation to the new page's heading.
    expect(await page.evaluate('document.activeElement && document.activeElement.tagName')).toBe('H1');
    citizenId = new URL(page.url()).pathname.split('/').at(-1)!;

    // Bind a phone: the code goes out by SMS; a wrong code is refused, the right one binds.
    await page.getByLabel('Phone number', { exact: true }).fill('+998 90 123 45 67');
    await page.getByRole('button', { name: 'Send the code by SMS' }).click();
    await expect.poll(() => page.getByTestId('code-sent').textContent()).toContain('+998901234567');
    const code = await readSmsCode('+998 90 123 45 67');

    const wrong = code === '000000' ? '111111' : '000000';
    await page.getByLabel('Code from the SMS', { exact: true }).fill(wrong);
    await page.getByRole('button', { name: 'Confirm the phone' }).click();
    await expect.poll(() => page.getByRole('alert').getAttribute('data-code')).toBe('binding_code_wrong');
    expect(await page.getByRole('alert').textContent()).toContain('attempts left: 2');
    await expect.poll(() => page.getByTestId('code-sent').textContent()).toContain('attempts left: 2');

    // The citizen is slow: the code expires (as if ten minutes passed). The console says so
    // instead of asking for a code that can no longer work, and sends a new one.
    await suite.server.app.context.db
      .updateTable('phone_bindings')
      .set({ code_expires_at: Date.now() - 1000 })
      .where('citizen_id', '=', citizenId)
      .where('status', '=', 'pending')
      .execute();
    await page.reload();
    await expect.poll(() => page.getByTestId('code-state').getAttribute('data-state')).toBe('expired');
    expect(await page.getByTestId('code-state').textContent()).toMatch(/^The code sent to \+998901234567 expired at .+\. Send a new code, or change the number\.$/);
    expect(await page.getByLabel('Code from the SMS', { exact: true }).count()).toBe(0);
    await page.getByLabel('Language of the SMS', { exact: true }).selectOption('ru');
    await page.getByRole('button', { name: 'Send a new code' }).click();
    await expect.poll(() => page.getByRole('status').first().textContent()).toBe('A new code was sent to +998901234567; the earlier code no longer works.');
    await expect.poll(() => page.getByTestId('code-sent').textContent()).toContain('attempts left: 3');
    const fresh = await readSmsCode('+998 90 123 45 67', code);
    expect(fresh).not.toBe(code);

    // The old code is gone with its binding; the new one binds.
    await page.getByLabel('Code from the SMS', { exact: true }).fill(code);
    await page.getByRole('button', { name: 'Confirm the phone' }).click();
    await expect.poll(() => page.getByRole('alert').getAttribute('data-code')).toBe('binding_code_wrong');
    await page.getByLabel('Code from the SMS', { exact: true }).fill(fresh);
    await page.getByRole('button', { name: 'Confirm the phone' }).click();
    await expect.poll(() => page.getByRole('status').first().textContent()).toBe('Phone +998901234567 is bound.');
    await expect.poll(() => page.getByTestId('bound-phone').textContent()).toMatch(/^\+998901234567 /);

    // Issue the activation code with its QR.
    await page.getByRole('button', { name: 'Issue an activation code' }).click();
    await expect.poll(() => page.getByTestId('activation-code').textContent()).toMatch(/^[0-9A-Z]{4}(-[0-9A-Z]{4}){3}$/);
    const qr = page.getByRole('img', { name: 'QR code with the activation code' });
    await expect.poll(() => qr.evaluate((img: { complete: boolean; naturalWidth: number }) => img.complete && img.naturalWidth > 0)).toBe(true);

    // The history on the page lists each step, newest first (the look-ups came before there was
    // a local citizen record to attach them to; the audit log below has them).
    await expect
      .poll(() => page.locator('tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-action'))))
      .toEqual([
        'enrollment.activation_code_issued',
        'enrollment.phone_bound',
        'enrollment.binding_started',
        'enrollment.binding_started',
        'enrollment.created',
      ]);
    expect(await page.locator('tbody').textContent()).toContain('Activation code issued');
    await expect.poll(() => page.locator('tbody').textContent()).toContain('Public Services Center, Tashkent City');

    // The audit log as the API reports it, with operator, office and time of every step.
    const audit = (await (await page.request.get(`${suite.server.url}/api/v1/audit?limit=50`)).json()) as {
      items: Array<{ action: string; actorType: string; actorId: string; officeId: string | null; at: string; subjectCitizenId: string | null; reason: string | null }>;
    };
    const actions = audit.items.map((e) => e.action).reverse();
    expect(actions).toEqual([
      'operator.invited',
      'operator.registered',
      'operator.signed_in',
      // The mistyped PINFL was refused before reaching the registry.
      'registry.lookup',
      'registry.lookup',
      'enrollment.created',
      'enrollment.binding_started',
      'enrollment.binding_started',
      'enrollment.phone_bound',
      'enrollment.activation_code_issued',
    ]);
    expect(audit.items.filter((e) => e.action === 'registry.lookup').map((e) => e.reason)).toEqual(['Citizen at the counter to enroll', 'Citizen at the counter to enroll']);
    const operatorId = invitation.operator.id;
    for (const event of audit.items.filter((e) => e.action.startsWith('enrollment.'))) {
      expect(event).toMatchObject({ actorType: 'operator', actorId: operatorId, officeId: 'psc-tk-01', subjectCitizenId: citizenId });
      expect(Date.parse(event.at)).toBeGreaterThan(Date.now() - 120_000);
    }
    expect(JSON.stringify(audit)).not.toContain(citizen.pinfl);
    expect(JSON.stringify(audit)).not.toContain(code);

    await page.screenshot({ path: `${SCREENSHOTS}/tasdiq-console-desktop-${dialect}.png`, fullPage: true });
    await page.setViewportSize({ width: 390, height: 844 });
    await page.screenshot({ path: `${SCREENSHOTS}/tasdiq-console-phone-${dialect}.png`, fullPage: true });
    await page.setViewportSize({ width: 1280, height: 900 });
    expect(pageErrors.flat()).toEqual([]);
  });

  it('suspends, resumes and re-binds only with a reason, and revokes; the history shows who, where and why', async () => {
    expect(citizenId).toMatch(/^cit_/);
    const reason = page.getByLabel('Reason', { exact: true });

    // Without a reason nothing is sent; the field says so and takes focus.
    await page.getByRole('button', { name: 'Suspend', exact: true }).click();
    await expect.poll(() => reason.getAttribute('aria-invalid')).toBe('true');
    expect(await page.getByRole('alert').textContent()).toBe('Write the reason first.');
    expect(await page.evaluate('document.activeElement && document.activeElement.tagName')).toBe('TEXTAREA');

    await reason.fill('Citizen reported the phone stolen');
    await page.getByRole('button', { name: 'Suspend', exact: true }).click();
    await expect.poll(() => page.getByTestId('enrollment-status').textContent()).toMatch(/^suspended/);
    // A suspended enrollment issues no activation codes.
    expect(await page.getByRole('button', { name: 'Issue an activation code' }).count()).toBe(0);
    await reason.fill('Citizen found the phone');
    await page.getByRole('button', { name: 'Resume', exact: true }).click();
    await expect.poll(() => page.getByTestId('enrollment-status').textContent()).toMatch(/^active/);

    // Re-bind to a new SIM: the old phone stays bound until the new code is confirmed.
    await reason.fill('SIM card replaced');
    await page.getByRole('button', { name: 'Re-bind after a lost phone or SIM change' }).click();
    await page.getByRole('textbox', { name: 'Phone number', exact: true }).fill('+998 93 765 43 21');
    await page.getByRole('button', { name: 'Send the code by SMS' }).click();
    await expect.poll(() => page.getByTestId('code-sent').textContent()).toContain('+998937654321');
    expect(await page.getByTestId('bound-phone').textContent()).toMatch(/^\+998901234567 /);
    const code = await readSmsCode('+998 93 765 43 21');
    await page.getByLabel('Code from the SMS', { exact: true }).fill(code);
    await page.getByRole('button', { name: 'Confirm the phone' }).click();
    await expect.poll(() => page.getByTestId('bound-phone').textContent()).toMatch(/^\+998937654321 /);

    await reason.fill('Citizen asked to leave Mobile-ID');
    await page.getByRole('button', { name: 'Revoke', exact: true }).click();
    await expect.poll(() => page.getByTestId('enrollment-status').textContent()).toMatch(/^revoked/);
    expect(await page.getByTestId('bound-phone').textContent()).toBe('No phone bound');

    const rows = () =>
      page.locator('tbody tr').evaluateAll((trs) => trs.map((tr) => [tr.getAttribute('data-action'), tr.lastElementChild?.textContent]));
    await expect.poll(rows).toEqual([
      ['enrollment.revoked', 'Citizen asked to leave Mobile-ID'],
      ['enrollment.phone_rebound', '—'],
      ['enrollment.rebind_started', 'SIM card replaced'],
      ['enrollment.resumed', 'Citizen found the phone'],
      ['enrollment.suspended', 'Citizen reported the phone stolen'],
      // The steps at the counter carry the standard reasons the console offered first.
      ['enrollment.activation_code_issued', 'Setting up the Tasdiq app at the counter'],
      ['enrollment.phone_bound', '—'],
      ['enrollment.binding_started', 'The citizen’s own phone, present at the counter'],
      ['enrollment.binding_started', 'The citizen’s own phone, present at the counter'],
      ['enrollment.created', 'Enrollment in person, document and face checked'],
    ]);
    expect(pageErrors.flat()).toEqual([]);
  });
  it('lets the admin invite an operator who registers a passkey, and disable them with a reason', async () => {
    await page.getByRole('link', { name: 'Operators' }).click();
    await expect.poll(() => heading(page)).toBe('Operators');
    await page.getByLabel('Name', { exact: true }).fill('Aziz Demo');
    await page.getByLabel('Role', { exact: true }).selectOption('operator');
    await page.getByLabel('Office', { exact: true }).selectOption('psc-su-boysun');
    await page.getByRole('button', { name: 'Create the invitation' }).click();
    await expect.poll(() => page.getByTestId('registration-link').inputValue()).toMatch(/^http:\/\/localhost:\d+\/console\/register\?token=/);
    const link = await page.getByTestId('registration-link').inputValue();

    // The invited operator registers on their own device and lands signed in, without admin pages.
    const theirs = await suite.browser.newContext();
    const theirPage = await theirs.newPage();
    pageErrors.push(collectPageErrors(theirPage));
    await addVirtualAuthenticator(theirs, theirPage);
    await theirPage.goto(link);
    await theirPage.getByLabel('Til', { exact: true }).selectOption('en');
    await theirPage.getByRole('button', { name: 'Create a passkey' }).click();
    await expect.poll(() => headingOrAlert(theirPage), { timeout: 10_000 }).toBe('Find a citizen');
    await expect.poll(() => theirPage.getByText('Aziz Demo, operator · Boysun District Public Services Center').count()).toBe(1);
    expect(await theirPage.getByRole('link', { name: 'Operators' }).count()).toBe(0);
    // The link is single use.
    const again = await theirs.newPage();
    await again.goto(link);
    await expect.poll(() => again.getByRole('alert').getAttribute('data-code')).toBe('invitation_invalid');

    // Disabling needs a reason and ends their session.
    await page.reload();
    // Nobody disables themselves (the server refuses it too).
    await expect.poll(() => page.getByRole('row').filter({ hasText: 'Dilnoza Demo' }).textContent()).toContain('active');
    expect(await page.getByRole('button', { name: 'Disable Dilnoza Demo' }).count()).toBe(0);
    const row = page.getByRole('row').filter({ hasText: 'Aziz Demo' });
    await expect.poll(() => row.textContent()).toContain('active');
    await row.getByRole('button', { name: 'Disable Aziz Demo' }).click();
    await expect.poll(() => page.getByRole('alert').textContent()).toBe('Write the reason first.');
    await page.getByLabel('Reason for disabling', { exact: true }).fill('Left the office');
    await row.getByRole('button', { name: 'Disable Aziz Demo' }).click();
    await expect.poll(() => page.getByRole('status').first().textContent()).toBe('Aziz Demo is disabled.');
    await expect.poll(() => row.textContent()).toContain('disabled');

    await theirPage.getByRole('textbox', { name: 'PINFL', exact: true }).fill('31505900012345');
    await theirPage.getByRole('button', { name: 'Search the registry' }).click();
    await expect.poll(() => heading(theirPage)).toBe('Sign in');
    await theirs.close();

    const audit = (await (await page.request.get(`${suite.server.url}/api/v1/audit?limit=50`)).json()) as {
      items: Array<{ action: string; reason: string | null; officeId: string | null }>;
    };
    expect(audit.items.find((e) => e.action === 'operator.disabled')).toMatchObject({ reason: 'Left the office', officeId: 'psc-tk-01' });
    expect(pageErrors.flat()).toEqual([]);
  });
});
