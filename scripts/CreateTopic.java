// Creates a topic on the running test cluster (used by scripts/kafka create-topic).
// Run from source by `java` (Java 11+), with the broker's jars on the class path.
import java.util.List;
import java.util.Properties;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;

public class CreateTopic {
    public static void main(String[] args) throws Exception {
        if (args.length != 4) {
            System.err.println("usage: CreateTopic BOOTSTRAP NAME PARTITIONS REPLICATION");
            System.exit(2);
        }
        Properties props = new Properties();
        props.put("bootstrap.servers", args[0]);
        try (Admin admin = Admin.create(props)) {
            NewTopic topic = new NewTopic(args[1], Integer.parseInt(args[2]), Short.parseShort(args[3]));
            admin.createTopics(List.of(topic)).all().get();
        }
    }
}
