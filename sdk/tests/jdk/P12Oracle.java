// JDK oracle for the P12 tests: for each (file, password) pair, does a stock JDK load the PKCS#12
// keystore, recover the private key, and sign with it so that the certificate's public key verifies?
//
// Usage: java P12Oracle.java LIST_FILE
// LIST_FILE holds one case per line: `<path>\t<password as hex UTF-8>` (hex so any password,
// including empty and non-ASCII, survives). Output: one line per case, in order:
//   OK\t<path>\t<key algorithm>\t<SHA-256 of the certificate the keystore gives for the key, hex>
//   FAIL\t<path>\t<stage>\t<exception class>: <message>
// where stage is load, no_key, get_key, no_cert, sign or verify. One JVM serves every case
// (JVM start-up is slow).
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.Key;
import java.security.MessageDigest;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.Signature;
import java.security.cert.Certificate;
import java.security.interfaces.ECKey;
import java.util.Collections;
import java.util.HexFormat;

public class P12Oracle {
    public static void main(String[] args) throws Exception {
        for (String line : Files.readAllLines(Path.of(args[0]), StandardCharsets.UTF_8)) {
            if (line.isBlank()) continue;
            String[] parts = line.split("\t", -1);
            String path = parts[0];
            char[] password = new String(HexFormat.of().parseHex(parts.length > 1 ? parts[1] : ""),
                    StandardCharsets.UTF_8).toCharArray();
            System.out.println(verdict(path, password));
            System.out.flush();
        }
    }

    static String verdict(String path, char[] password) {
        String stage = "load";
        try {
            KeyStore ks = KeyStore.getInstance("PKCS12");
            try (var in = Files.newInputStream(Path.of(path))) {
                ks.load(in, password);
            }
            stage = "no_key";
            String alias = null;
            for (String a : Collections.list(ks.aliases())) {
                if (ks.isKeyEntry(a)) { alias = a; break; }
            }
            if (alias == null) return fail(path, stage, "no key entry");
            stage = "get_key";
            Key key = ks.getKey(alias, password);
            if (!(key instanceof PrivateKey)) return fail(path, stage, "not a private key");
            stage = "no_cert";
            Certificate cert = ks.getCertificate(alias);
            if (cert == null) return fail(path, stage, "no certificate for the key");
            stage = "sign";
            String alg = signatureAlgorithm((PrivateKey) key);
            Signature signer = Signature.getInstance(alg);
            signer.initSign((PrivateKey) key);
            byte[] data = "p12 oracle".getBytes(StandardCharsets.UTF_8);
            signer.update(data);
            byte[] sig = signer.sign();
            stage = "verify";
            Signature verifier = Signature.getInstance(alg);
            verifier.initVerify(cert.getPublicKey());
            verifier.update(data);
            if (!verifier.verify(sig)) return fail(path, stage, "signature does not verify");
            String presented = HexFormat.of().formatHex(
                    MessageDigest.getInstance("SHA-256").digest(cert.getEncoded()));
            return "OK\t" + path + "\t" + key.getAlgorithm() + "\t" + presented;
        } catch (Throwable e) {
            return fail(path, stage, e.getClass().getName() + ": " + oneLine(e));
        }
    }

    static String signatureAlgorithm(PrivateKey key) {
        switch (key.getAlgorithm()) {
            case "RSA": return "SHA256withRSA";
            case "EC": return "SHA256withECDSA";
            case "DSA": return "SHA256withDSA";
            case "Ed25519": case "EdDSA": return "Ed25519";
            case "Ed448": return "Ed448";
            default: return "SHA256with" + key.getAlgorithm();
        }
    }

    static String oneLine(Throwable e) {
        StringBuilder sb = new StringBuilder(String.valueOf(e.getMessage()));
        for (Throwable c = e.getCause(); c != null; c = c.getCause()) {
            sb.append(" / ").append(c.getClass().getSimpleName()).append(": ").append(c.getMessage());
        }
        return sb.toString().replace('\n', ' ').replace('\t', ' ');
    }

    static String fail(String path, String stage, String why) {
        return "FAIL\t" + path + "\t" + stage + "\t" + why;
    }
}
