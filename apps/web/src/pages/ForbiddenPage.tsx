import { ButtonLink } from '../components/Button.tsx';
import { StatusPage } from '../components/ServerErrorView.tsx';

export default function ForbiddenPage() {
  return (
    <StatusPage
      code="403"
      title="You do not have access"
      message="Your account is not allowed to open this page. If you think it should be, contact your administrator."
    >
      <ButtonLink to="/">Go home</ButtonLink>
    </StatusPage>
  );
}
