// The JDK as oracle for P12 files: loads each file with KeyStore.getInstance("PKCS12"), recovers
// the one private key, and proves it by signing with it and verifying with the leaf certificate.
// One JVM for many files (JVM start is slow). Usage: java LoadP12.java PASSWORD_HEX FILE...
// The password comes as hex of its UTF-8 bytes: argv decoding depends on the locale.
// Prints one line per file: "OK <file> alias=<a> chain=<n> key=<alg>" or "FAIL <file> <reason>".
import java.io.FileInputStream;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.Signature;
import java.security.cert.Certificate;
import java.util.Collections;

public class LoadP12 {
    public static void main(String[] args) throws Exception {
        char[] password = new String(java.util.HexFormat.of().parseHex(args[0]),
                java.nio.charset.StandardCharsets.UTF_8).toCharArray();
        for (int i = 1; i < args.length; i++) {
            String file = args[i];
            try (FileInputStream in = new FileInputStream(file)) {
                KeyStore store = KeyStore.getInstance("PKCS12");
                store.load(in, password);
                String keyAlias = null;
                int keys = 0;
                for (String alias : Collections.list(store.aliases())) {
                    if (store.isKeyEntry(alias)) { keyAlias = alias; keys++; }
                }
                if (keys != 1) throw new IllegalStateException(keys + " key entries");
                PrivateKey key = (PrivateKey) store.getKey(keyAlias, password);
                Certificate[] chain = store.getCertificateChain(keyAlias);
                String algorithm = switch (key.getAlgorithm()) {
                    case "RSA" -> "SHA256withRSA";
                    case "EC" -> "SHA256withECDSA";
                    default -> key.getAlgorithm();
                };
                byte[] message = "proof of possession".getBytes();
                Signature signer = Signature.getInstance(algorithm);
                signer.initSign(key);
                signer.update(message);
                byte[] signature = signer.sign();
                Signature verifier = Signature.getInstance(algorithm);
                verifier.initVerify(chain[0]);
                verifier.update(message);
                if (!verifier.verify(signature)) throw new IllegalStateException("signature does not verify");
                System.out.println("OK " + file + " alias=" + keyAlias + " chain=" + chain.length
                        + " key=" + key.getAlgorithm());
            } catch (Exception e) {
                System.out.println("FAIL " + file + " " + e);
            }
        }
    }
}
