import { useLocale, useTranslate } from '../shared/i18n.tsx';
import { consoleText } from './messages.ts';
import type { Citizen, PersonName } from './types.ts';
import { useFormat } from './ui.tsx';
import { useOfficeName } from './offices.ts';

export function fullName(citizen: Citizen, script: 'latn' | 'cyrl'): string {
  const name: PersonName = (script === 'cyrl' ? citizen.name.cyrl : null) ?? citizen.name.latn;
  return [name.surname, name.given, name.patronymic].filter(Boolean).join(' ');
}

/** What the registry (and the local enrollment state) says about a person. */
export function CitizenRecord({ citizen, headingId }: { citizen: Citizen; headingId: string }) {
  const t = useTranslate(consoleText);
  const { locale } = useLocale();
  const f = useFormat();
  const officeName = useOfficeName();
  const name = fullName(citizen, locale === 'uz-Cyrl' || locale === 'ru' ? 'cyrl' : 'latn');
  return (
    <section className="card" aria-labelledby={headingId}>
      <h2 id={headingId}>{t('registryTitle')}</h2>
      {citizen.demo && <p className="dev-banner">{t('demoRecord')}</p>}
      <div className="record-head">
        {citizen.photo && <img className="photo" src={citizen.photo} alt={t('photoAlt', { name })} />}
        <dl className="facts">
          <dt>{t('fullName')}</dt>
          <dd data-testid="citizen-name">{name}</dd>
          <dt>{t('pinfl')}</dt>
          <dd>{citizen.pinfl}</dd>
          <dt>{t('birthDate')}</dt>
          <dd>{f.date(citizen.birthDate)}</dd>
          <dt>{t('sex')}</dt>
          <dd>{t(citizen.sex === 'F' ? 'sex_F' : 'sex_M')}</dd>
          <dt>{t('citizenship')}</dt>
          <dd>{citizen.citizenship}</dd>
          <dt>{t('documents')}</dt>
          <dd>
            <ul className="plain">
              {citizen.documents.map((d) => (
                <li key={`${d.series}${d.number}`}>
                  {t(d.kind === 'passport' ? 'doc_passport' : 'doc_id_card')} {d.series} {d.number} —{' '}
                  {t('docValidity', { issued: f.date(d.issuedOn), expires: f.date(d.expiresOn) })}
                  {d.expired && <strong className="status status-revoked"> ({t('docExpired')})</strong>}
                </li>
              ))}
            </ul>
          </dd>
          <dt>{t('enrollment')}</dt>
          <dd data-testid="enrollment-status">
            {citizen.enrollment ? (
              <>
                <span className={`status status-${citizen.enrollment.status}`}>{t(`status_${citizen.enrollment.status}`)}</span>
                {' — '}
                {t('enrolledAt', { office: officeName(citizen.enrollment.officeId), date: f.time(citizen.enrollment.createdAt) })}
              </>
            ) : (
              t('notEnrolled')
            )}
          </dd>
          <dt>{t('phone')}</dt>
          <dd data-testid="bound-phone">
            {citizen.binding
              ? t('phoneBoundAt', { phone: citizen.binding.phone, operator: citizen.binding.mobileOperator, date: f.time(citizen.binding.boundAt) })
              : t('noPhone')}
          </dd>
        </dl>
      </div>
    </section>
  );
}
