import './style.css';

// Placeholder page: shows whether the API answers, until the SPA lands.
const status = document.querySelector<HTMLParagraphElement>('#status');
fetch('/health/')
  .then((response) => response.json() as Promise<{ success: boolean }>)
  .then((body) => {
    if (status) status.textContent = body.success ? 'API healthy.' : 'API degraded.';
  })
  .catch(() => {
    if (status) status.textContent = 'API unreachable.';
  });
