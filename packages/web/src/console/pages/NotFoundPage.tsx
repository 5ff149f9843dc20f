import { useTranslate } from '../../shared/i18n.tsx';
import { consoleText } from '../messages.ts';
import { Link } from '../router.tsx';
import { PageTitle } from '../ui.tsx';

export function NotFoundPage() {
  const t = useTranslate(consoleText);
  return (
    <section className="card">
      <PageTitle title={t('notFoundTitle')}>{t('notFoundTitle')}</PageTitle>
      <p>{t('notFoundText')}</p>
      <Link to="/">{t('navSearch')}</Link>
    </section>
  );
}
