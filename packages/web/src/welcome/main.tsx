import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import '../shared/styles.css';
import { LocaleProvider, useTranslate, type Catalog } from '../shared/i18n.tsx';
import { LanguageSwitcher } from '../shared/LanguageSwitcher.tsx';

type Key = 'title' | 'intro' | 'console' | 'consoleText' | 'app' | 'appText' | 'api' | 'apiText';

const text: Catalog<Key> = {
  'uz-Latn': {
    title: 'Tasdiq Mobile-ID',
    intro: "Fuqaroning shaxsini telefoniga bog'laydigan ochiq milliy Mobile-ID platformasi.",
    console: 'Operator paneli',
    consoleText: "Davlat xizmatlari markazlari va notariuslar xodimlari uchun: fuqaroni ro'yxatdan o'tkazish, telefonni bog'lash, faollashtirish kodi.",
    app: 'Fuqaro ilovasi',
    appText: "Fuqarolar uchun: ro'yxatdan o'tish uchun eng yaqin idorani toping.",
    api: 'Idoralar (ochiq API)',
    apiText: "Ro'yxatdan o'tkazadigan idoralar JSON ko'rinishida.",
  },
  'uz-Cyrl': {
    title: 'Tasdiq Mobile-ID',
    intro: 'Фуқаронинг шахсини телефонига боғлайдиган очиқ миллий Mobile-ID платформаси.',
    console: 'Оператор панели',
    consoleText: 'Давлат хизматлари марказлари ва нотариуслар ходимлари учун: фуқарони рўйхатдан ўтказиш, телефонни боғлаш, фаоллаштириш коди.',
    app: 'Фуқаро иловаси',
    appText: 'Фуқаролар учун: рўйхатдан ўтиш учун энг яқин идорани топинг.',
    api: 'Идоралар (очиқ API)',
    apiText: 'Рўйхатдан ўтказадиган идоралар JSON кўринишида.',
  },
  ru: {
    title: 'Tasdiq Mobile-ID',
    intro: 'Открытая национальная платформа Mobile-ID: личность гражданина привязана к его телефону.',
    console: 'Консоль оператора',
    consoleText: 'Для сотрудников центров госуслуг и нотариусов: регистрация граждан, привязка телефона, код активации.',
    app: 'Приложение гражданина',
    appText: 'Для граждан: найдите ближайший офис, чтобы зарегистрироваться.',
    api: 'Офисы (открытый API)',
    apiText: 'Офисы, где регистрируют граждан, в формате JSON.',
  },
  en: {
    title: 'Tasdiq Mobile-ID',
    intro: "An open national Mobile-ID platform: a citizen's identity is bound to their phone.",
    console: 'Operator console',
    consoleText: 'For staff of public services centers and notaries: enroll citizens, bind phones, issue activation codes.',
    app: 'Citizen app',
    appText: 'For citizens: find the nearest office to enroll at.',
    api: 'Offices (public API)',
    apiText: 'The offices that enroll citizens, as JSON.',
  },
};

function Welcome() {
  const t = useTranslate(text);
  return (
    <>
      <header className="topbar">
        <div className="topbar-inner">
          <span className="brand">Tasdiq</span>
          <LanguageSwitcher />
        </div>
      </header>
      <main id="main">
        <h1>{t('title')}</h1>
        <p>{t('intro')}</p>
        <ul className="grid plain">
          <li className="card">
            <h2>
              <a href="/console/">{t('console')}</a>
            </h2>
            <p>{t('consoleText')}</p>
          </li>
          <li className="card">
            <h2>
              <a href="/app/">{t('app')}</a>
            </h2>
            <p>{t('appText')}</p>
          </li>
          <li className="card">
            <h2>
              <a href="/api/v1/offices">{t('api')}</a>
            </h2>
            <p>{t('apiText')}</p>
          </li>
        </ul>
      </main>
    </>
  );
}

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <LocaleProvider>
      <Welcome />
    </LocaleProvider>
  </StrictMode>,
);
