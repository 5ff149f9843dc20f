import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import '../shared/styles.css';
import { LocaleProvider } from '../shared/i18n.tsx';
import { ConsoleApp } from './ConsoleApp.tsx';

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <LocaleProvider>
      <ConsoleApp />
    </LocaleProvider>
  </StrictMode>,
);
