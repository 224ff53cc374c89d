// Sets the produce and consume byte-rate quotas of one client id on the running
// test cluster (used by scripts/kafka quota). librdkafka 2.0.2 cannot alter
// client quotas. A rate of "none" removes that quota.
// Run from source by `java` (Java 11+), with the broker's jars on the class path.
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.common.quota.ClientQuotaAlteration;
import org.apache.kafka.common.quota.ClientQuotaEntity;

public class SetQuota {
    private static Double rate(String s) {
        return s.equals("none") ? null : Double.valueOf(s);
    }

    public static void main(String[] args) throws Exception {
        if (args.length != 3 && args.length != 4) {
            System.err.println("usage: SetQuota BOOTSTRAP CLIENT_ID PRODUCER_BYTE_RATE [CONSUMER_BYTE_RATE]");
            System.exit(2);
        }
        Properties props = new Properties();
        props.put("bootstrap.servers", args[0]);
        ClientQuotaEntity entity = new ClientQuotaEntity(Map.of(ClientQuotaEntity.CLIENT_ID, args[1]));
        List<ClientQuotaAlteration.Op> ops = new ArrayList<>();
        ops.add(new ClientQuotaAlteration.Op("producer_byte_rate", rate(args[2])));
        if (args.length == 4)
            ops.add(new ClientQuotaAlteration.Op("consumer_byte_rate", rate(args[3])));
        try (Admin admin = Admin.create(props)) {
            admin.alterClientQuotas(List.of(new ClientQuotaAlteration(entity, ops))).all().get();
        }
    }
}
