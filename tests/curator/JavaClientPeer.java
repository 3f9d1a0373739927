// The official Java ZooKeeper client (Debian's zookeeper.jar, 3.8), driven by
// the tests to see what a Java user sees: it numbers SetWatches like any other
// request after a reconnect, where the C client and kazoo use xid -8.
//
//   java JavaClientPeer watch <connect> <path>
//       sets a data, a child and an exists watch under <path> (which must
//       exist), prints "watching", then waits (up to 120 s) for the data
//       watch to fire, printing every event as it comes:
//         "state <KeeperState>"          a connection state change
//         "event <EventType> <path>"     a watch event
//       then reads <path> once more, prints "data <value>" and
//       "connected <n>" (how many times it reached SyncConnected), exits 0.
//       Exits 1 if the watch never fired.
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.zookeeper.WatchedEvent;
import org.apache.zookeeper.Watcher;
import org.apache.zookeeper.ZooKeeper;

public final class JavaClientPeer {
  private static synchronized void say(String line) {
    System.out.println(line);
    System.out.flush();
  }

  public static void main(String[] args) throws Exception {
    if (args.length != 3 || !args[0].equals("watch")) {
      System.err.println("usage: JavaClientPeer watch <connect> <path>");
      System.exit(2);
    }
    final String path = args[2];
    final CountDownLatch connected = new CountDownLatch(1);
    final CountDownLatch fired = new CountDownLatch(1);
    final AtomicInteger connections = new AtomicInteger();
    Watcher watcher = (WatchedEvent e) -> {
      if (e.getType() == Watcher.Event.EventType.None) {
        say("state " + e.getState());
        if (e.getState() == Watcher.Event.KeeperState.SyncConnected) {
          connections.incrementAndGet();
          connected.countDown();
        }
        return;
      }
      say("event " + e.getType() + " " + e.getPath());
      if (e.getType() == Watcher.Event.EventType.NodeDataChanged && path.equals(e.getPath())) fired.countDown();
    };
    ZooKeeper zk = new ZooKeeper(args[1], 10000, watcher);
    if (!connected.await(60, TimeUnit.SECONDS)) {
      say("never connected");
      System.exit(1);
    }
    zk.getData(path, true, null);
    zk.getChildren(path, true);
    zk.exists(path + "/not-yet", true);
    say("watching");
    if (!fired.await(120, TimeUnit.SECONDS)) {
      say("the watch never fired");
      System.exit(1);
    }
    say("data " + new String(zk.getData(path, false, null), StandardCharsets.UTF_8));
    say("connected " + connections.get());
    zk.close();
  }
}
