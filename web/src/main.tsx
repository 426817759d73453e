import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { I18nProvider } from './i18n';
import { ConsoleApp } from './ConsoleApp';
import { BorrowerApp } from './pages/Borrower';
import './styles.css';

const root = document.getElementById('root');
if (!root) throw new Error('no #root element');
// One build, two faces: the risk console at / and the borrower view a lender embeds at /borrower.
const isBorrower = window.location.pathname.startsWith('/borrower');
createRoot(root).render(
  <StrictMode>
    <I18nProvider>{isBorrower ? <BorrowerApp /> : <ConsoleApp />}</I18nProvider>
  </StrictMode>,
);
