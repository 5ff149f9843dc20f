import { useId, useState, type FormEvent } from 'react';
import { useTranslate } from '../../shared/i18n.tsx';
import { ApiProblem } from '../../shared/api.ts';
import { consoleText } from '../messages.ts';
import { useOperatorApi } from '../session.tsx';
import { Link, navigate } from '../router.tsx';
import type { Citizen } from '../types.ts';
import { CitizenRecord } from '../CitizenRecord.tsx';
import { ErrorMessage, PageTitle, Status } from '../ui.tsx';
import { useReasonPicker } from '../ReasonPicker.tsx';

type Mode = 'pinfl' | 'document';

export function SearchPage() {
  const t = useTranslate(consoleText);
  const call = useOperatorApi();
  const ids = { pinfl: useId(), series: useId(), number: useId(), pinflHint: useId(), seriesHint: useId(), numberHint: useId(), record: useId() };
  const [mode, setMode] = useState<Mode>('pinfl');
  const [pinfl, setPinfl] = useState('');
  const [series, setSeries] = useState('');
  const [number, setNumber] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [citizen, setCitizen] = useState<Citizen | null>(null);
  const reasonPicker = useReasonPicker('lookup');

  const search = async (event: FormEvent) => {
    event.preventDefault();
    const reason = reasonPicker.value();
    if (reason === null) return;
    setBusy(true);
    setError(null);
    setCitizen(null);
    try {
      const body = mode === 'pinfl' ? { pinfl: pinfl.trim(), reason } : { document: { series: series.trim().toUpperCase(), number: number.trim() }, reason };
      setCitizen((await call<{ citizen: Citizen }>('/api/v1/enrollment/lookup', body)).citizen);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };

  const pinflInvalid = error instanceof ApiProblem && error.code.startsWith('pinfl_');
  return (
    <>
      <PageTitle title={t('searchTitle')}>{t('searchTitle')}</PageTitle>
      <form className="card" onSubmit={search} noValidate>
        <fieldset>
          <legend>{t('searchBy')}</legend>
          {(['pinfl', 'document'] as const).map((m) => (
            <div className="radio" key={m}>
              <input type="radio" id={`${ids.pinfl}-${m}`} name="mode" value={m} checked={mode === m} onChange={() => setMode(m)} />
              <label htmlFor={`${ids.pinfl}-${m}`}>{t(m === 'pinfl' ? 'byPinfl' : 'byDocument')}</label>
            </div>
          ))}
        </fieldset>
        {mode === 'pinfl' ? (
          <div className="field">
            <label htmlFor={ids.pinfl}>{t('pinfl')}</label>
            <input
              id={ids.pinfl}
              inputMode="numeric"
              autoComplete="off"
              maxLength={20}
              value={pinfl}
              aria-describedby={ids.pinflHint}
              aria-invalid={pinflInvalid}
              onChange={(e) => setPinfl(e.target.value)}
            />
            <p id={ids.pinflHint} className="hint">
              {t('pinflHint')}
            </p>
          </div>
        ) : (
          <div className="row">
            <div className="field">
              <label htmlFor={ids.series}>{t('series')}</label>
              <input id={ids.series} autoComplete="off" maxLength={4} value={series} aria-describedby={ids.seriesHint} onChange={(e) => setSeries(e.target.value)} />
              <p id={ids.seriesHint} className="hint">
                {t('seriesHint')}
              </p>
            </div>
            <div className="field">
              <label htmlFor={ids.number}>{t('number')}</label>
              <input id={ids.number} inputMode="numeric" autoComplete="off" maxLength={12} value={number} aria-describedby={ids.numberHint} onChange={(e) => setNumber(e.target.value)} />
              <p id={ids.numberHint} className="hint">
                {t('numberHint')}
              </p>
            </div>
          </div>
        )}
        {reasonPicker.element}
        <button type="submit" disabled={busy}>
          {t('searchButton')}
        </button>
        <Status>{busy ? t('searching') : ''}</Status>
        <ErrorMessage error={error} />
      </form>
      {citizen && <CitizenRecord citizen={citizen} headingId={ids.record} />}
      {citizen?.id && (
        <p>
          <Link to={`/citizens/${citizen.id}`}>{t('openRecord')}</Link>
        </p>
      )}
      {citizen && (!citizen.enrollment || citizen.enrollment.status === 'revoked') && <EnrollForm citizen={citizen} />}
    </>
  );
}

function EnrollForm({ citizen }: { citizen: Citizen }) {
  const t = useTranslate(consoleText);
  const call = useOperatorApi();
  const id = useId();
  const valid = citizen.documents.filter((d) => !d.expired);
  const [document, setDocument] = useState(valid[0] ? `${valid[0].series}|${valid[0].number}` : '');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const reasonPicker = useReasonPicker('enroll');

  const enroll = async (event: FormEvent) => {
    event.preventDefault();
    const reason = reasonPicker.value();
    if (reason === null) return;
    const [series = '', number = ''] = document.split('|');
    setBusy(true);
    setError(null);
    try {
      const answer = await call<{ citizen: Citizen }>('/api/v1/enrollment/enrollments', { pinfl: citizen.pinfl, document: { series, number }, reason });
      navigate(`/citizens/${answer.citizen.id}`);
    } catch (e) {
      setError(e);
      setBusy(false);
    }
  };

  return (
    <form className="card" onSubmit={enroll} aria-labelledby={`${id}-title`}>
      <h2 id={`${id}-title`}>{t('enrollTitle')}</h2>
      {valid.length === 0 ? (
        <p className="alert">{t('noValidDocument')}</p>
      ) : (
        <>
          <div className="field">
            <label htmlFor={id}>{t('presentedDocument')}</label>
            <select id={id} value={document} onChange={(e) => setDocument(e.target.value)}>
              {valid.map((d) => (
                <option key={`${d.series}${d.number}`} value={`${d.series}|${d.number}`}>
                  {t(d.kind === 'passport' ? 'doc_passport' : 'doc_id_card')} {d.series} {d.number}
                </option>
              ))}
            </select>
          </div>
          <p className="hint">{t('enrollHint')}</p>
          {reasonPicker.element}
          <button type="submit" disabled={busy}>
            {t('enrollButton')}
          </button>
        </>
      )}
      <ErrorMessage error={error} />
    </form>
  );
}
