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
import java.nio.charset.StandardCharsets;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.framework.recipes.leader.LeaderLatch;
import org.apache.curator.framework.recipes.locks.InterProcessMutex;
import org.apache.curator.retry.RetryNTimes;

public final class CuratorPeer {
  public static void main(String[] args) throws Exception {
    if (args.length != 5) {
      System.err.println("usage: CuratorPeer lock|elect <connect> <path> <rounds|id> <counter path|hold ms>");
      System.exit(2);
    }
    CuratorFramework client =
        CuratorFrameworkFactory.newClient(args[1], 4000, 10000, new RetryNTimes(50, 100));
    client.start();
    client.blockUntilConnected();
    if (args[0].equals("lock")) {
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
}
