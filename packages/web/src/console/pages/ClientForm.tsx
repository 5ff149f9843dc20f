import { useEffect, useRef, useState, type FormEvent, type ReactNode } from 'react';
import { ApiProblem } from '../../shared/api.ts';
import { LOCALE_NAMES, LOCALES, useTranslate } from '../../shared/i18n.tsx';
import { ErrorMessage, Status } from '../ui.tsx';
import {
  ACR_VALUES,
  AUTH_METHODS,
  CIBA_MODES,
  ID_TOKEN_ALGS,
  SCOPES,
  documentOf,
  fieldErrors,
  type ClientForm as FormState,
  type FieldError,
  type KeySource,
} from './clients-api.ts';
import { clientsText, type ClientsKey } from './clients-text.ts';
import './clients.css';

const KEY_SOURCES: readonly KeySource[] = ['jwks', 'uri', 'none'];

function hasKey(key: string): key is ClientsKey {
  return key in clientsText.en;
}

/** A stable element id for a form control (one form per page). */
function idOf(prefix: string, control: string): string {
  return `${prefix}-${control.replace(/[^A-Za-z0-9]/g, '-')}`;
}

/**
 * The registration form, for a new relying party and for editing one. The server checks every
 * rule; its per-field answers are shown next to the fields (and listed, with links, on top).
 */
export function ClientFormView({
  mode,
  initial,
  busy,
  onSubmit,
}: {
  mode: 'register' | 'edit';
  initial: FormState;
  busy: boolean;
  /** Sends the document; resolves with the problem to show, or null when it was accepted. */
  onSubmit(document: Record<string, unknown>): Promise<unknown>;
}) {
  const t = useTranslate(clientsText);
  const prefix = `client-${mode}`;
  const [form, setForm] = useState<FormState>(initial);
  const [problem, setProblem] = useState<unknown>(null);
  const [errors, setErrors] = useState<readonly FieldError[]>([]);
  const summaryRef = useRef<HTMLDivElement>(null);
  const editing = mode === 'edit';

  useEffect(() => {
    if (errors.length > 0) summaryRef.current?.focus();
  }, [errors]);

  const set = <K extends keyof FormState>(key: K, value: FormState[K]) => setForm((f) => ({ ...f, [key]: value }));
  const toggle = (key: 'scopes' | 'acrValues', value: string, on: boolean) =>
    setForm((f) => ({ ...f, [key]: on ? [...f[key], value] : f[key].filter((v) => v !== value) }));

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setProblem(null);
    const built = documentOf(form);
    if (!built.ok) {
      setErrors([{ control: 'jwks', message: t('jwksNotJson') }]);
      return;
    }
    setErrors([]);
    const answer = await onSubmit(built.document);
    if (answer instanceof ApiProblem && answer.code === 'client_invalid' && answer.errors.length > 0) {
      setErrors(fieldErrors(answer, t, hasKey));
    } else if (answer) {
      setProblem(answer);
    }
  };

  const errorsOf = (control: string) => errors.filter((e) => e.control === control);
  /** Label, hint and inline errors wired to a control by id, aria-describedby and aria-invalid. */
  const describe = (control: string, hint?: boolean) => {
    const id = idOf(prefix, control);
    const described = [hint ? `${id}-hint` : '', errorsOf(control).length > 0 ? `${id}-error` : ''].filter(Boolean).join(' ');
    return { id, 'aria-invalid': errorsOf(control).length > 0, ...(described ? { 'aria-describedby': described } : {}) };
  };
  const errorText = (control: string) => {
    const list = errorsOf(control);
    if (list.length === 0) return null;
    return (
      <p id={`${idOf(prefix, control)}-error`} className="field-error">
        {list.map((e) => e.message).join('; ')}
      </p>
    );
  };
  const hint = (control: string, text: ReactNode) => (
    <p id={`${idOf(prefix, control)}-hint`} className="hint">
      {text}
    </p>
  );
  const labelOf = (control: string): string => {
    if (control.startsWith('name.')) return t('nameIn', { language: LOCALE_NAMES[control.slice(5) as (typeof LOCALES)[number]] ?? control });
    const labels: Record<string, ClientsKey> = {
      client_id: 'clientId',
      redirect_uris: 'redirectUris',
      post_logout_redirect_uris: 'postLogoutUris',
      token_endpoint_auth_method: 'authMethod',
      tls_client_auth_subject_dn: 'subjectDn',
      jwks: 'jwks',
      jwks_uri: 'jwksUri',
      scopes: 'scopes',
      acr_values: 'acrValues',
      sector_identifier: 'sector',
      subject_type: 'subjectType',
      fapi: 'fapi',
      contacts: 'contacts',
      id_token_signed_response_alg: 'idTokenAlg',
      backchannel_logout_uri: 'backchannel',
      ciba_delivery_mode: 'cibaMode',
      ciba_notification_endpoint: 'cibaEndpoint',
    };
    return labels[control] ? t(labels[control]) : control;
  };
  // Problems for a keys control that is not shown (keys pasted, a jwks_uri problem) go to the fieldset.
  const hiddenKeyControls = [form.keySource !== 'jwks' ? 'jwks' : '', form.keySource !== 'uri' ? 'jwks_uri' : ''].filter(Boolean);
  const keysetErrors = errors.filter((e) => hiddenKeyControls.includes(e.control));

  return (
    <form className="client-form" onSubmit={submit} noValidate aria-busy={busy}>
      {errors.length > 0 && (
        <div ref={summaryRef} className="alert" role="alert" tabIndex={-1} data-code="client_invalid">
          <p>
            <strong>{t('fixErrors')}</strong>
          </p>
          <ul>
            {errors.map((e, i) => (
              <li key={`${e.control}:${i}`}>
                <a href={`#${idOf(prefix, e.control)}`}>{labelOf(e.control)}</a>: {e.message}
              </li>
            ))}
          </ul>
        </div>
      )}

      <div className="field">
        <label htmlFor={idOf(prefix, 'client_id')}>{t('clientId')}</label>
        <input
          {...describe('client_id', true)}
          autoComplete="off"
          spellCheck={false}
          maxLength={64}
          readOnly={editing}
          value={form.clientId}
          onChange={(e) => set('clientId', e.target.value)}
        />
        {hint('client_id', editing ? t('clientIdFixed') : t('clientIdHint'))}
        {errorText('client_id')}
      </div>

      <fieldset>
        <legend>{t('namesLegend')}</legend>
        {LOCALES.map((locale) => (
          <div className="field" key={locale}>
            <label htmlFor={idOf(prefix, `name.${locale}`)}>{t('nameIn', { language: LOCALE_NAMES[locale] })}</label>
            <input
              {...describe(`name.${locale}`)}
              lang={locale}
              autoComplete="off"
              maxLength={200}
              value={form.names[locale]}
              onChange={(e) => set('names', { ...form.names, [locale]: e.target.value })}
            />
            {errorText(`name.${locale}`)}
          </div>
        ))}
      </fieldset>

      <div className="field">
        <label htmlFor={idOf(prefix, 'redirect_uris')}>{t('redirectUris')}</label>
        <textarea {...describe('redirect_uris', true)} rows={3} spellCheck={false} value={form.redirectUris} onChange={(e) => set('redirectUris', e.target.value)} />
        {hint('redirect_uris', t('redirectHint'))}
        {errorText('redirect_uris')}
      </div>

      <div className="field">
        <label htmlFor={idOf(prefix, 'post_logout_redirect_uris')}>
          {t('postLogoutUris')} {t('optional')}
        </label>
        <textarea
          {...describe('post_logout_redirect_uris', true)}
          rows={2}
          spellCheck={false}
          value={form.postLogoutUris}
          onChange={(e) => set('postLogoutUris', e.target.value)}
        />
        {hint('post_logout_redirect_uris', t('listHint'))}
        {errorText('post_logout_redirect_uris')}
      </div>

      <div className="field">
        <label htmlFor={idOf(prefix, 'token_endpoint_auth_method')}>{t('authMethod')}</label>
        <select {...describe('token_endpoint_auth_method')} value={form.authMethod} onChange={(e) => set('authMethod', e.target.value as FormState['authMethod'])}>
          {AUTH_METHODS.map((m) => (
            <option key={m} value={m}>
              {t(`auth_${m}`)}
            </option>
          ))}
        </select>
        {errorText('token_endpoint_auth_method')}
      </div>
      {form.authMethod === 'tls_client_auth' && (
        <div className="field">
          <label htmlFor={idOf(prefix, 'tls_client_auth_subject_dn')}>{t('subjectDn')}</label>
          <input {...describe('tls_client_auth_subject_dn')} autoComplete="off" maxLength={500} value={form.subjectDn} onChange={(e) => set('subjectDn', e.target.value)} />
          {errorText('tls_client_auth_subject_dn')}
        </div>
      )}

      <fieldset aria-describedby={keysetErrors.length > 0 ? `${prefix}-keys-error` : undefined}>
        <legend>{t('keysLegend')}</legend>
        {KEY_SOURCES.map((source) => (
          <div className="radio" key={source}>
            <input
              type="radio"
              id={`${prefix}-keys-${source}`}
              name={`${prefix}-keys`}
              value={source}
              checked={form.keySource === source}
              onChange={() => set('keySource', source)}
            />
            <label htmlFor={`${prefix}-keys-${source}`}>{t(`keys_${source}`)}</label>
          </div>
        ))}
        {form.keySource === 'jwks' && (
          <div className="field">
            <label htmlFor={idOf(prefix, 'jwks')}>{t('jwks')}</label>
            <textarea {...describe('jwks', true)} rows={8} spellCheck={false} className="mono" value={form.jwks} onChange={(e) => set('jwks', e.target.value)} />
            {hint('jwks', t('jwksHint'))}
            {errorText('jwks')}
          </div>
        )}
        {form.keySource === 'uri' && (
          <div className="field">
            <label htmlFor={idOf(prefix, 'jwks_uri')}>{t('jwksUri')}</label>
            <input {...describe('jwks_uri', true)} type="url" autoComplete="off" spellCheck={false} value={form.jwksUri} onChange={(e) => set('jwksUri', e.target.value)} />
            {hint('jwks_uri', t('jwksUriHint'))}
            {errorText('jwks_uri')}
          </div>
        )}
        {keysetErrors.length > 0 && (
          <p id={`${prefix}-keys-error`} className="field-error">
            {keysetErrors.map((e) => e.message).join('; ')}
          </p>
        )}
      </fieldset>

      <fieldset aria-describedby={errorsOf('scopes').length > 0 ? `${idOf(prefix, 'scopes')}-error` : undefined}>
        <legend id={idOf(prefix, 'scopes')} tabIndex={-1}>
          {t('scopes')}
        </legend>
        <div className="choices">
          {SCOPES.map((scope) => (
            <div className="radio" key={scope}>
              <input
                type="checkbox"
                id={`${prefix}-scope-${scope}`}
                checked={form.scopes.includes(scope)}
                onChange={(e) => toggle('scopes', scope, e.target.checked)}
              />
              <label htmlFor={`${prefix}-scope-${scope}`}>
                <code>{scope}</code>
              </label>
            </div>
          ))}
        </div>
        {errorText('scopes')}
      </fieldset>

      <fieldset aria-describedby={errorsOf('acr_values').length > 0 ? `${idOf(prefix, 'acr_values')}-error` : undefined}>
        <legend id={idOf(prefix, 'acr_values')} tabIndex={-1}>
          {t('acrValues')}
        </legend>
        {ACR_VALUES.map((acr) => (
          <div className="radio" key={acr}>
            <input type="checkbox" id={`${prefix}-acr-${acr}`} checked={form.acrValues.includes(acr)} onChange={(e) => toggle('acrValues', acr, e.target.checked)} />
            <label htmlFor={`${prefix}-acr-${acr}`}>{t(`acr_${acr}`)}</label>
          </div>
        ))}
        {errorText('acr_values')}
      </fieldset>

      <div className="field">
        <label htmlFor={idOf(prefix, 'sector_identifier')}>
          {t('sector')} {editing ? '' : t('optional')}
        </label>
        <input
          {...describe('sector_identifier', true)}
          autoComplete="off"
          spellCheck={false}
          maxLength={253}
          readOnly={editing}
          value={form.sector}
          onChange={(e) => set('sector', e.target.value)}
        />
        {hint('sector_identifier', editing ? t('sectorFixed') : t('sectorHint'))}
        {errorText('sector_identifier')}
      </div>

      <fieldset>
        <legend id={idOf(prefix, 'subject_type')} tabIndex={-1}>
          {t('subjectType')}
        </legend>
        {(['pairwise', 'public'] as const).map((type) => (
          <div className="radio" key={type}>
            <input
              type="radio"
              id={`${prefix}-subject-${type}`}
              name={`${prefix}-subject`}
              value={type}
              checked={form.subjectType === type}
              disabled={editing && form.subjectType !== type}
              onChange={() => set('subjectType', type)}
            />
            <label htmlFor={`${prefix}-subject-${type}`}>{t(`subject_${type}`)}</label>
          </div>
        ))}
        {errorText('subject_type')}
      </fieldset>

      <div className="radio">
        <input type="checkbox" {...describe('fapi')} checked={form.fapi} onChange={(e) => set('fapi', e.target.checked)} />
        <label htmlFor={idOf(prefix, 'fapi')}>{t('fapi')}</label>
      </div>
      {errorText('fapi')}

      <div className="field">
        <label htmlFor={idOf(prefix, 'contacts')}>{t('contacts')}</label>
        <textarea {...describe('contacts', true)} rows={2} spellCheck={false} value={form.contacts} onChange={(e) => set('contacts', e.target.value)} />
        {hint('contacts', t('listHint'))}
        {errorText('contacts')}
      </div>

      <div className="field">
        <label htmlFor={idOf(prefix, 'id_token_signed_response_alg')}>{t('idTokenAlg')}</label>
        <select {...describe('id_token_signed_response_alg')} value={form.idTokenAlg} onChange={(e) => set('idTokenAlg', e.target.value as FormState['idTokenAlg'])}>
          {ID_TOKEN_ALGS.map((alg) => (
            <option key={alg} value={alg}>
              {t(`alg_${alg}`)}
            </option>
          ))}
        </select>
        {errorText('id_token_signed_response_alg')}
      </div>

      <div className="field">
        <label htmlFor={idOf(prefix, 'backchannel_logout_uri')}>
          {t('backchannel')} {t('optional')}
        </label>
        <input {...describe('backchannel_logout_uri')} type="url" autoComplete="off" spellCheck={false} value={form.backchannel} onChange={(e) => set('backchannel', e.target.value)} />
        {errorText('backchannel_logout_uri')}
      </div>

      <div className="row">
        <div className="field">
          <label htmlFor={idOf(prefix, 'ciba_delivery_mode')}>{t('cibaMode')}</label>
          <select {...describe('ciba_delivery_mode')} value={form.ciba} onChange={(e) => set('ciba', e.target.value as FormState['ciba'])}>
            {CIBA_MODES.map((m) => (
              <option key={m} value={m}>
                {t(`ciba_${m}`)}
              </option>
            ))}
          </select>
          {errorText('ciba_delivery_mode')}
        </div>
        {form.ciba === 'ping' && (
          <div className="field">
            <label htmlFor={idOf(prefix, 'ciba_notification_endpoint')}>{t('cibaEndpoint')}</label>
            <input
              {...describe('ciba_notification_endpoint')}
              type="url"
              autoComplete="off"
              spellCheck={false}
              value={form.cibaEndpoint}
              onChange={(e) => set('cibaEndpoint', e.target.value)}
            />
            {errorText('ciba_notification_endpoint')}
          </div>
        )}
      </div>

      <button type="submit" disabled={busy}>
        {editing ? t('saveButton') : t('registerButton')}
      </button>
      <Status>{busy ? t(editing ? 'saving' : 'registering') : ''}</Status>
      <ErrorMessage error={problem} />
    </form>
  );
}
