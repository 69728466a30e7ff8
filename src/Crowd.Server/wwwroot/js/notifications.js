// Keeps the bell's unread count current and announces a new notification while the page is open. The server sends
// "notification" frames ({unread, id, kind, title, link}) over /hubs/notifications; the words come from the server.
(() => {
  const bell = document.getElementById('bell');
  if (!bell) {
    return;
  }
  const count = bell.querySelector('.bell-count');
  const live = document.getElementById('live-notification');
  const liveLink = live?.querySelector('a');
  let latest = null;
  let first = true;

  const show = (frame) => {
    bell.dataset.unread = String(frame.unread);
    count.textContent = String(frame.unread);
    count.hidden = frame.unread === 0;
    bell.setAttribute('aria-label', frame.unread === 0 ? bell.dataset.label : bell.dataset.labelUnread.replace('{0}', String(frame.unread)));
    // The frame sent on connecting tells what the page already showed; later ones with a new id are news.
    if (frame.id && frame.id !== latest && !first && live && liveLink) {
      liveLink.textContent = frame.title;
      liveLink.href = frame.link;
      live.hidden = false;
    }
    if (frame.unread === 0 && live) {
      live.hidden = true;
    }
    latest = frame.id ?? latest;
    first = false;
  };

  const start = () => {
    const connection = new signalR.HubConnectionBuilder()
      .withUrl('/hubs/notifications')
      .withAutomaticReconnect()
      .configureLogging(signalR.LogLevel.Warning)
      .build();
    connection.on('notification', show);
    connection.onreconnected(() => { first = true; });
    connection.start().catch(() => setTimeout(start, 10_000));
  };

  if (window.signalR) {
    start();
  } else {
    const script = document.createElement('script');
    script.src = '/lib/signalr/signalr.min.js';
    script.addEventListener('load', start);
    document.head.append(script);
  }
})();
