import { useTranslate } from '../shared/i18n.tsx';
import { LanguageSwitcher } from '../shared/LanguageSwitcher.tsx';
import { appText } from './messages.ts';
import { OfficeFinder } from './OfficeFinder.tsx';
import { PhoneApp } from './device/PhoneApp.tsx';

export function CitizenApp() {
  const t = useTranslate(appText);
  return (
    <>
      <a className="skip-link" href="#main">
        {t('skip')}
      </a>
      <header className="topbar">
        <div className="topbar-inner">
          <span className="brand">Tasdiq</span>
          <LanguageSwitcher />
        </div>
      </header>
      <main id="main">
        <h1>{t('title')}</h1>
        <p>{t('intro')}</p>
        <PhoneApp />
        <section className="card" aria-labelledby="how">
          <h2 id="how">{t('howTitle')}</h2>
          <ol>
            <li>{t('step1')}</li>
            <li>{t('step2')}</li>
            <li>{t('step3')}</li>
            <li>{t('step4')}</li>
          </ol>
          <p className="hint">{t('privacy')}</p>
        </section>
        <OfficeFinder />
      </main>
    </>
  );
}
