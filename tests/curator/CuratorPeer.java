// A Java process on Apache Curator 5.4 (Debian libcurator-recipes-java) that
// shares one lock or one election with Corral's C++ recipes: the interop
// tests start it next to corral::recipes::Lock / LeaderLatch users.
//
//   java CuratorPeer lock  <connect> <lock path> <rounds> <counter path>
//       takes Curator's InterProcessMutex `rounds` times; inside it reads the
//       counter znode and writes it back plus one, unconditionally (so an
//       overlap with another holder would lose an increment)
//   java CuratorPeer elect <connect> <election path> <id> <hold ms>
//       a Curator LeaderLatch: prints "leader <id>" once it leads, holds for
//       <hold ms>, closes (resigns) and prints "resigned <id>"
//   java CuratorPeer workload <connect> <base> <id> <rounds> <total>
//       a Curator application as users write them, with the three recipes
//       most of them run: a LeaderLatch on <base>/latch (prints "leader
//       <id>" / "follower <id>" as that changes), a CuratorCache of
//       <base>/counter, and `rounds` increments of <base>/counter under an
//       InterProcessMutex on <base>/lock (as `lock` above; "progress <n>"
//       every 10). Then waits until its cache shows <total> (every peer's
//       increments) and prints "cache <value>" and "done <rounds>".
//       Connection state changes print as "state <STATE>".
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.framework.recipes.cache.CuratorCache;
import org.apache.curator.framework.recipes.cache.CuratorCacheListener;
import org.apache.curator.framework.recipes.leader.LeaderLatch;
import org.apache.curator.framework.recipes.leader.LeaderLatchListener;
import org.apache.curator.framework.recipes.locks.InterProcessMutex;
import org.apache.curator.retry.RetryNTimes;

public final class CuratorPeer {
  public static void main(String[] args) throws Exception {
    if (args.length != 5 && !(args.length == 6 && args[0].equals("workload"))) {
      System.err.println("usage: CuratorPeer lock|elect <connect> <path> <rounds|id> <counter path|hold ms>\n"
                         + "       CuratorPeer workload <connect> <base> <id> <rounds> <total>");
      System.exit(2);
    }
    // The workload rides out a leader's kill -9: a session timeout well above
    // a failover, and retries for as long.
    final boolean workload = args[0].equals("workload");
    CuratorFramework client = CuratorFrameworkFactory.newClient(
        args[1], workload ? 10000 : 4000, 10000, workload ? new RetryNTimes(300, 100) : new RetryNTimes(50, 100));
    client.getConnectionStateListenable().addListener((c, state) -> say("state " + state));
    client.start();
    client.blockUntilConnected();
    if (workload) {
      workload(client, args[2], args[3], Integer.parseInt(args[4]), Integer.parseInt(args[5]));
    } else if (args[0].equals("lock")) {
      InterProcessMutex mutex = new InterProcessMutex(client, args[2]);
      int rounds = Integer.parseInt(args[3]);
      for (int i = 0; i < rounds; ++i) {
        mutex.acquire();
        try {
          String value = new String(client.getData().forPath(args[4]), StandardCharsets.UTF_8);
          client.setData().forPath(args[4], Integer.toString(Integer.parseInt(value) + 1).getBytes(StandardCharsets.UTF_8));
        } finally {
          mutex.release();
        }
      }
      System.out.println("done " + rounds);
    } else {
      LeaderLatch latch = new LeaderLatch(client, args[2], args[3]);
      latch.start();
      latch.await();
      System.out.println("leader " + args[3]);
      System.out.flush();
      Thread.sleep(Long.parseLong(args[4]));
      latch.close();
      System.out.println("resigned " + args[3]);
    }
    System.out.flush();
    client.close();
  }

  private static synchronized void say(String line) {
    System.out.println(line);
    System.out.flush();
  }

  private static void workload(CuratorFramework client, String base, String id, int rounds, int total)
      throws Exception {
    String counter = base + "/counter";
    LeaderLatch latch = new LeaderLatch(client, base + "/latch", id);
    latch.addListener(new LeaderLatchListener() {
      @Override public void isLeader() { say("leader " + id); }
      @Override public void notLeader() { say("follower " + id); }
    });
    latch.start();
    CuratorCache cache = CuratorCache.build(client, counter);
    CountDownLatch complete = new CountDownLatch(1);
    String want = Integer.toString(total);
    cache.listenable().addListener(CuratorCacheListener.builder()
        .forChanges((before, after) -> {
          if (want.equals(new String(after.getData(), StandardCharsets.UTF_8))) complete.countDown();
        })
        .build());
    cache.start();
    InterProcessMutex mutex = new InterProcessMutex(client, base + "/lock");
    for (int i = 1; i <= rounds; ++i) {
      mutex.acquire();
      try {
        String value = new String(client.getData().forPath(counter), StandardCharsets.UTF_8);
        client.setData().forPath(counter, Integer.toString(Integer.parseInt(value) + 1).getBytes(StandardCharsets.UTF_8));
      } finally {
        mutex.release();
      }
      if (i % 10 == 0) say("progress " + i);
    }
    boolean seen = complete.await(120, TimeUnit.SECONDS)
        || cache.get(counter).map(d -> want.equals(new String(d.getData(), StandardCharsets.UTF_8))).orElse(false);
    say("cache " + cache.get(counter).map(d -> new String(d.getData(), StandardCharsets.UTF_8)).orElse("none")
        + (seen ? "" : " (never saw " + want + ")"));
    cache.close();
    latch.close();
    say("done " + rounds);
  }
}
