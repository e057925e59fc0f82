"""A tiny Django app holding the AppChannelWebSocketMixin example (the mixin names
the channel after the app that defines the view)."""
