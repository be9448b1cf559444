import { ServerErrorView } from '../components/ServerErrorView.tsx';

export default function ServerErrorPage() {
  return <ServerErrorView />;
}
