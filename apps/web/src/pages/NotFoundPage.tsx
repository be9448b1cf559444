import { ButtonLink } from '../components/Button.tsx';
import { StatusPage } from '../components/ServerErrorView.tsx';

export default function NotFoundPage() {
  return (
    <StatusPage
      code="404"
      title="Page not found"
      message="The page you are looking for does not exist or has moved."
    >
      <ButtonLink to="/">Go home</ButtonLink>
      <ButtonLink to="/pricing" variant="secondary">
        See pricing
      </ButtonLink>
    </StatusPage>
  );
}
