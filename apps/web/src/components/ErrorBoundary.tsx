import { Component, type ReactNode } from 'react';
import { ServerErrorView } from './ServerErrorView.tsx';

/** A render error shows the 500 page inside the layout instead of a blank screen. */
export class ErrorBoundary extends Component<{ children: ReactNode }, { error: unknown }> {
  override state: { error: unknown } = { error: null };

  static getDerivedStateFromError(error: unknown) {
    return { error };
  }

  override render() {
    if (this.state.error) return <ServerErrorView />;
    return this.props.children;
  }
}
