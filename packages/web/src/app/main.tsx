import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import '../shared/styles.css';
import { LocaleProvider } from '../shared/i18n.tsx';
import { CitizenApp } from './CitizenApp.tsx';

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <LocaleProvider>
      <CitizenApp />
    </LocaleProvider>
  </StrictMode>,
);

// The worker makes the installed app open without a network; a failure only loses that.
if ('serviceWorker' in navigator) {
  navigator.serviceWorker.register('/app/sw.js', { scope: '/app/' }).catch(() => undefined);
}
