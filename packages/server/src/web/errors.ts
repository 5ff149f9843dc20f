import { defineErrors } from '../platform/errors.ts';

export const WebErrors = defineErrors({
  web_not_built: {
    status: 503,
    title: {
      'uz-Latn': "Veb-ilova hali yig'ilmagan: npm run build:web buyrug'ini bajaring",
      'uz-Cyrl': 'Веб-илова ҳали йиғилмаган: npm run build:web буйруғини бажаринг',
      ru: 'Веб-приложение ещё не собрано: выполните npm run build:web',
      en: 'The web app is not built yet: run npm run build:web',
    },
  },
});
