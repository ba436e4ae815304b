# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_dkimkit_global_optspecs
    string join \n h/help V/version
end

function __fish_dkimkit_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_dkimkit_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_dkimkit_using_subcommand
    set -l cmd (__fish_dkimkit_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c dkimkit -n "__fish_dkimkit_needs_command" -s h -l help -d 'Print help'
complete -c dkimkit -n "__fish_dkimkit_needs_command" -s V -l version -d 'Print version'
complete -c dkimkit -n "__fish_dkimkit_needs_command" -f -a "genkey" -d 'Generate key pairs and their DNS records (a drop-in for opendkim-genkey)'
complete -c dkimkit -n "__fish_dkimkit_needs_command" -f -a "sign-file" -d 'Sign message files (DKIM, RFC 6376 and 8463)'
complete -c dkimkit -n "__fish_dkimkit_needs_command" -f -a "verify-file" -d 'Verify the DKIM signatures of message files'
complete -c dkimkit -n "__fish_dkimkit_needs_command" -f -a "testkey" -d 'Check published keys in DNS: one key, or every key of a KeyTable (opendkim-testkey)'
complete -c dkimkit -n "__fish_dkimkit_needs_command" -f -a "check" -d 'Check every mail DNS record of domains: SPF, DMARC, DKIM, MX, reverse DNS, MTA-STS, TLS-RPT'
complete -c dkimkit -n "__fish_dkimkit_needs_command" -f -a "rotate" -d 'Rotate keys on opendkim\'s KeyTable, safely under cron'
complete -c dkimkit -n "__fish_dkimkit_needs_command" -f -a "genzone" -d 'Write the records of every KeyTable key as zone data or nsupdate input (opendkim-genzone)'
complete -c dkimkit -n "__fish_dkimkit_needs_command" -f -a "record" -d 'Print the DNS record of an existing private key'
complete -c dkimkit -n "__fish_dkimkit_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c dkimkit -n "__fish_dkimkit_using_subcommand genkey" -s b -l bits -d 'Size of the RSA key in bits, 1024 to 4096 [default: 2048]' -r
complete -c dkimkit -n "__fish_dkimkit_using_subcommand genkey" -s d -l domain -d 'The signing domain; repeat it to make a key for each domain, written to DIR/DOMAIN/' -r
complete -c dkimkit -n "__fish_dkimkit_using_subcommand genkey" -s D -l directory -d 'Directory to write the files in (created if missing)' -r -F
complete -c dkimkit -n "__fish_dkimkit_using_subcommand genkey" -s s -l selector -d 'The selector: the files are SELECTOR.private and SELECTOR.txt' -r
complete -c dkimkit -n "__fish_dkimkit_using_subcommand genkey" -l key-type -d 'The key type' -r -f -a "rsa\t'RSA (rsa-sha256), what every receiver verifies'
ed25519\t'Ed25519 (ed25519-sha256, RFC 8463): small and fast, but not verified everywhere yet'"
complete -c dkimkit -n "__fish_dkimkit_using_subcommand genkey" -s h -l hash-algorithms -d 'Hash algorithms the key may be used with (h=), separated by \':\'; "rsa-sha256" means sha256, sha1 is refused (RFC 8301)' -r
complete -c dkimkit -n "__fish_dkimkit_using_subcommand genkey" -s n -l note -d 'A note for people reading the record (n=)' -r
complete -c dkimkit -n "__fish_dkimkit_using_subcommand genkey" -l format -d 'Print the record(s) on standard output in this format' -r -f -a "bind\t'The BIND zone-file entry, as SELECTOR.txt holds it'
value\t'The record as one line without quotes, for DNS providers\' web forms'
json\t'JSON: name, value, strings, key type and bits, file paths'"
complete -c dkimkit -n "__fish_dkimkit_using_subcommand genkey" -l force -d 'Replace existing files'
complete -c dkimkit -n "__fish_dkimkit_using_subcommand genkey" -s v -l verbose -d 'Say what is done, on standard error'
complete -c dkimkit -n "__fish_dkimkit_using_subcommand genkey" -l help -d 'Print help (-h is --hash-algorithms, as in opendkim-genkey)'
complete -c dkimkit -n "__fish_dkimkit_using_subcommand genkey" -s a -l append-domain -d 'Write the record\'s name fully qualified (SELECTOR._domainkey.DOMAIN.), not relative to the zone'
complete -c dkimkit -n "__fish_dkimkit_using_subcommand genkey" -s r -l restrict -d 'Restrict the key to email (s=email)'
complete -c dkimkit -n "__fish_dkimkit_using_subcommand genkey" -s S -l nosubdomains -d 'Forbid signing for subdomains: i= must be in exactly the d= domain (t=s)'
complete -c dkimkit -n "__fish_dkimkit_using_subcommand genkey" -l subdomains -d 'Allow signing for subdomains (the default; kept for opendkim-genkey\'s flag)'
complete -c dkimkit -n "__fish_dkimkit_using_subcommand genkey" -s t -l testmode -d 'Mark the domain as testing DKIM (t=y)'
complete -c dkimkit -n "__fish_dkimkit_using_subcommand genkey" -l notestmode -d 'Do not mark the domain as testing (the default; opendkim-genkey\'s flag): the last of -t and --notestmode wins'
complete -c dkimkit -n "__fish_dkimkit_using_subcommand genkey" -l json -d 'Print JSON (the same as --format json)'
complete -c dkimkit -n "__fish_dkimkit_using_subcommand genkey" -s V -l version -d 'Print version'
complete -c dkimkit -n "__fish_dkimkit_using_subcommand sign-file" -s d -l domain -d 'The signing domain (d=): once for every key, or once per key' -r
complete -c dkimkit -n "__fish_dkimkit_using_subcommand sign-file" -s s -l selector -d 'The selector (s=) of each key, in the order of -k' -r
complete -c dkimkit -n "__fish_dkimkit_using_subcommand sign-file" -s k -l key -d 'A private key (PEM, DER or a dkimpy Ed25519 seed); repeat -s and -k to sign with several' -r -F
complete -c dkimkit -n "__fish_dkimkit_using_subcommand sign-file" -l keytable -d 'opendkim\'s KeyTable: with --signing-table, choose the keys by each message\'s From address exactly as opendkim does' -r
complete -c dkimkit -n "__fish_dkimkit_using_subcommand sign-file" -l signing-table -d 'opendkim\'s SigningTable; write refile:PATH for a table of wildcard patterns' -r
complete -c dkimkit -n "__fish_dkimkit_using_subcommand sign-file" -l config -d 'Sign as this opendkim.conf says: its KeyTable and SigningTable, or its Domain, Selector and KeyFile; and its Canonicalization, SignatureAlgorithm, SignHeaders, OversignHeaders, MinimumKeyBits and RequireSafeKeys (flags given override them)' -r -F
complete -c dkimkit -n "__fish_dkimkit_using_subcommand sign-file" -s c -l canonicalization -d 'Canonicalization (c=): header/body, each simple or relaxed [default: relaxed/relaxed, or with --config its Canonicalization, whose default is simple/simple]' -r
complete -c dkimkit -n "__fish_dkimkit_using_subcommand sign-file" -s H -l headers -d 'The header fields to sign, separated by \':\' or \',\' (From is required and oversigned)' -r
complete -c dkimkit -n "__fish_dkimkit_using_subcommand sign-file" -s x -l expire -d 'Make the signature expire this long after t= (x=), such as 7d (1month: on the same day of the next month, or its last day)' -r
complete -c dkimkit -n "__fish_dkimkit_using_subcommand sign-file" -l timestamp -d 'Sign as of this time (t=): RFC 3339 or Unix seconds [default: now]' -r
complete -c dkimkit -n "__fish_dkimkit_using_subcommand sign-file" -l identity -d 'The signing identity (i=), an address in the domain or a subdomain' -r
complete -c dkimkit -n "__fish_dkimkit_using_subcommand sign-file" -s o -l output -d 'Write the signed message to FILE instead of standard output (one message only)' -r -F
complete -c dkimkit -n "__fish_dkimkit_using_subcommand sign-file" -l output-dir -d 'Write each signed file into DIR, under its own name; DIR and its parents are created when missing, as mkdir -p (mode 0777 less the umask)' -r -F
complete -c dkimkit -n "__fish_dkimkit_using_subcommand sign-file" -l allow-unsafe-keys -d 'Use a private key that other users could read or replace, with a warning (by default such a key is refused, as opendkim\'s RequireSafeKeys refuses it; fix it with chmod 600)'
complete -c dkimkit -n "__fish_dkimkit_using_subcommand sign-file" -l multiple-signatures -d 'With --keytable: sign with every matching SigningTable entry (opendkim\'s MultipleSignatures)'
complete -c dkimkit -n "__fish_dkimkit_using_subcommand sign-file" -s v -l verbose -d 'With --config: list the opendkim.conf settings used, on standard error'
complete -c dkimkit -n "__fish_dkimkit_using_subcommand sign-file" -s l -l body-length -d 'Write the body length (l=); a receiver then accepts text appended to the body'
complete -c dkimkit -n "__fish_dkimkit_using_subcommand sign-file" -l in-place -d 'Replace each file by its signed form (atomically)'
complete -c dkimkit -n "__fish_dkimkit_using_subcommand sign-file" -l fsync -d 'Sync each new output file (-o, --output-dir) and its directory to disk before finishing, so that a crash cannot lose it (slower; --in-place always does)'
complete -c dkimkit -n "__fish_dkimkit_using_subcommand sign-file" -l force -d 'Replace existing output files'
complete -c dkimkit -n "__fish_dkimkit_using_subcommand sign-file" -l json -d 'Print a JSON document describing the signatures (the message itself is then not printed)'
complete -c dkimkit -n "__fish_dkimkit_using_subcommand sign-file" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c dkimkit -n "__fish_dkimkit_using_subcommand sign-file" -s V -l version -d 'Print version'
complete -c dkimkit -n "__fish_dkimkit_using_subcommand verify-file" -l key -d 'A key record to use instead of DNS: NAME is SELECTOR._domainkey.DOMAIN, and the record is given as its value or as a file (such as genkey\'s SELECTOR.txt)' -r
complete -c dkimkit -n "__fish_dkimkit_using_subcommand verify-file" -l nameserver -d 'Ask this name server instead of the system\'s resolver (repeatable)' -r
complete -c dkimkit -n "__fish_dkimkit_using_subcommand verify-file" -l timeout -d 'How long to wait for a DNS answer, such as 5s or 300ms (not in months or years, whose length varies)' -r
complete -c dkimkit -n "__fish_dkimkit_using_subcommand verify-file" -l trust-anchor -d 'Also trust these DNSKEY or DS records, of any zone (several in one file, as dnssec-keygen\'s K*.key, `dig DNSKEY` and unbound\'s anchor file hold them): a zone under one is validated from it, every other zone from the root\'s built-in keys (replaced by a root anchor given here)' -r -F
complete -c dkimkit -n "__fish_dkimkit_using_subcommand verify-file" -l now -d 'Verify as of this time (for x=): RFC 3339 or Unix seconds [default: now]' -r
complete -c dkimkit -n "__fish_dkimkit_using_subcommand verify-file" -l authserv-id -d 'The authserv-id of the Authentication-Results field [default: this host\'s name]' -r
complete -c dkimkit -n "__fish_dkimkit_using_subcommand verify-file" -l mbox -d 'Read the files as mbox mailboxes (mboxrd: ">From " lines are unescaped)'
complete -c dkimkit -n "__fish_dkimkit_using_subcommand verify-file" -l no-dnssec -d 'Do not validate DNSSEC'
complete -c dkimkit -n "__fish_dkimkit_using_subcommand verify-file" -l ar -d 'Print an Authentication-Results header field (RFC 8601) for each message'
complete -c dkimkit -n "__fish_dkimkit_using_subcommand verify-file" -l json -d 'Print one JSON document with every message and signature'
complete -c dkimkit -n "__fish_dkimkit_using_subcommand verify-file" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c dkimkit -n "__fish_dkimkit_using_subcommand verify-file" -s V -l version -d 'Print version'
complete -c dkimkit -n "__fish_dkimkit_using_subcommand testkey" -s d -l domain -d 'The signing domain whose key to check' -r
complete -c dkimkit -n "__fish_dkimkit_using_subcommand testkey" -s s -l selector -d 'The selector whose key to check' -r
complete -c dkimkit -n "__fish_dkimkit_using_subcommand testkey" -s k -l key -d 'The private key, to check that the record publishes its public key' -r -F
complete -c dkimkit -n "__fish_dkimkit_using_subcommand testkey" -l keytable -d 'Check every key of this opendkim KeyTable' -r
complete -c dkimkit -n "__fish_dkimkit_using_subcommand testkey" -s x -l config -d 'Check the keys this opendkim.conf names: its KeyTable, or Domain, Selector and KeyFile [default: /etc/opendkim.conf when nothing else says which keys]' -r -F
complete -c dkimkit -n "__fish_dkimkit_using_subcommand testkey" -l nameserver -d 'Ask this name server instead of the system\'s resolver (repeatable)' -r
complete -c dkimkit -n "__fish_dkimkit_using_subcommand testkey" -l timeout -d 'How long to wait for a DNS answer, such as 5s or 300ms (not in months or years, whose length varies)' -r
complete -c dkimkit -n "__fish_dkimkit_using_subcommand testkey" -l trust-anchor -d 'Also trust these DNSKEY or DS records, of any zone (several in one file, as dnssec-keygen\'s K*.key, `dig DNSKEY` and unbound\'s anchor file hold them): a zone under one is validated from it, every other zone from the root\'s built-in keys (replaced by a root anchor given here)' -r -F
complete -c dkimkit -n "__fish_dkimkit_using_subcommand testkey" -l jobs -d 'How many keys to check at once' -r
complete -c dkimkit -n "__fish_dkimkit_using_subcommand testkey" -l allow-unsafe-keys -d 'Use a private key that other users could read or replace, with a warning (by default such a key is refused, as opendkim\'s RequireSafeKeys refuses it; fix it with chmod 600)'
complete -c dkimkit -n "__fish_dkimkit_using_subcommand testkey" -s v -l verbose -d 'Say more: the record found and the CNAMEs followed (repeatable, as opendkim-testkey\'s)'
complete -c dkimkit -n "__fish_dkimkit_using_subcommand testkey" -l no-dnssec -d 'Do not validate DNSSEC'
complete -c dkimkit -n "__fish_dkimkit_using_subcommand testkey" -l json -d 'Print one JSON document with an entry per key'
complete -c dkimkit -n "__fish_dkimkit_using_subcommand testkey" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c dkimkit -n "__fish_dkimkit_using_subcommand testkey" -s V -l version -d 'Print version'
complete -c dkimkit -n "__fish_dkimkit_using_subcommand check" -s s -l selector -d 'A DKIM selector to check in every domain (repeatable)' -r
complete -c dkimkit -n "__fish_dkimkit_using_subcommand check" -l keytable -d 'Check the DKIM keys of this opendkim KeyTable whose domain is checked' -r
complete -c dkimkit -n "__fish_dkimkit_using_subcommand check" -s x -l config -d 'Check the DKIM keys this opendkim.conf names (its KeyTable, or Domain, Selector and KeyFile)' -r -F
complete -c dkimkit -n "__fish_dkimkit_using_subcommand check" -l ip -d 'Evaluate SPF (check_host) for mail from this address, and report the term that decides; anything but pass is an error (repeatable)' -r
complete -c dkimkit -n "__fish_dkimkit_using_subcommand check" -l nameserver -d 'Ask this name server instead of the system\'s resolver (repeatable)' -r
complete -c dkimkit -n "__fish_dkimkit_using_subcommand check" -l timeout -d 'How long to wait for a DNS answer, such as 5s or 300ms (not in months or years, whose length varies)' -r
complete -c dkimkit -n "__fish_dkimkit_using_subcommand check" -l trust-anchor -d 'Also trust these DNSKEY or DS records, of any zone (several in one file, as dnssec-keygen\'s K*.key, `dig DNSKEY` and unbound\'s anchor file hold them): a zone under one is validated from it, every other zone from the root\'s built-in keys (replaced by a root anchor given here)' -r -F
complete -c dkimkit -n "__fish_dkimkit_using_subcommand check" -l ca-file -d 'Trust this CA\'s certificates (PEM) for --fetch, besides the system\'s (for a private CA)' -r -F
complete -c dkimkit -n "__fish_dkimkit_using_subcommand check" -l mta-sts-port -d 'The HTTPS port for --fetch (for tests: MTA-STS is always on 443)' -r
complete -c dkimkit -n "__fish_dkimkit_using_subcommand check" -l format -d 'How to print the findings' -r -f -a "text\t'Grouped by domain and check, one line per finding with its fix'
json\t'One JSON document: {"domains": [{"domain", "findings": [{"check", "code", "severity", "message", "fix"}]}]}'
junit\t'A JUnit XML report: a test suite per domain, a test case per check'"
complete -c dkimkit -n "__fish_dkimkit_using_subcommand check" -l jobs -d 'How many domains to check at once' -r
complete -c dkimkit -n "__fish_dkimkit_using_subcommand check" -l no-dnssec -d 'Do not validate DNSSEC'
complete -c dkimkit -n "__fish_dkimkit_using_subcommand check" -l fetch -d 'Fetch the MTA-STS policy over HTTPS from https://mta-sts.DOMAIN/.well-known/mta-sts.txt when the domain announces one, and match its mx patterns against the MX records'
complete -c dkimkit -n "__fish_dkimkit_using_subcommand check" -l strict -d 'Treat warnings as errors (exit 1)'
complete -c dkimkit -n "__fish_dkimkit_using_subcommand check" -l json -d 'The same as --format json'
complete -c dkimkit -n "__fish_dkimkit_using_subcommand check" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c dkimkit -n "__fish_dkimkit_using_subcommand check" -s V -l version -d 'Print version'
complete -c dkimkit -n "__fish_dkimkit_using_subcommand rotate" -l keytable -d 'opendkim\'s KeyTable; managed entries are switched to their new keys in place' -r
complete -c dkimkit -n "__fish_dkimkit_using_subcommand rotate" -l signing-table -d 'opendkim\'s SigningTable: when given, only keys it refers to are rotated' -r
complete -c dkimkit -n "__fish_dkimkit_using_subcommand rotate" -s x -l config -d 'Read opendkim.conf: its KeyTable and SigningTable, or its single key (Domain, Selector, KeyFile; rotate rewrites the Selector and KeyFile lines), and its Nameservers, TrustAnchorFile, UserID and RequireSafeKeys' -r -F
complete -c dkimkit -n "__fish_dkimkit_using_subcommand rotate" -l keys-dir -d 'Rotate the entries whose key files are under DIR (others are left untouched); the state and the lock live here too' -r -F
complete -c dkimkit -n "__fish_dkimkit_using_subcommand rotate" -l selector-format -d 'How new selectors are named (strftime: %Y %y %m %d %H %M %S %j %s; %k the key type, rsa or ed25519). When a domain has several managed entries (an RSA and an Ed25519 key) and the format has no %k, "-%k" is added, so that the pair gets distinct selectors' -r
complete -c dkimkit -n "__fish_dkimkit_using_subcommand rotate" -l key-type -d 'The type of new keys [default: the current key\'s]' -r -f -a "rsa\t'RSA (rsa-sha256), what every receiver verifies'
ed25519\t'Ed25519 (ed25519-sha256, RFC 8463): small and fast, but not verified everywhere yet'"
complete -c dkimkit -n "__fish_dkimkit_using_subcommand rotate" -s b -l bits -d 'The size of new RSA keys [default: the current key\'s]' -r
complete -c dkimkit -n "__fish_dkimkit_using_subcommand rotate" -l every -d 'Rotate a key once it is this old (1month: on the same day of the next month, or its last day)' -r
complete -c dkimkit -n "__fish_dkimkit_using_subcommand rotate" -l overlap -d 'Keep an old key\'s record published this long after the switch' -r
complete -c dkimkit -n "__fish_dkimkit_using_subcommand rotate" -l now -d 'Act as of this time: RFC 3339 or Unix seconds [default: now]' -r
complete -c dkimkit -n "__fish_dkimkit_using_subcommand rotate" -l reload-command -d 'Run this after switching the KeyTable, such as \'systemctl reload opendkim\' (once for every key a run switches together)' -r
complete -c dkimkit -n "__fish_dkimkit_using_subcommand rotate" -l publish -d 'How records are published and withdrawn' -r -f -a "rfc2136\t'DNS UPDATE (RFC 2136) to --server, signed with --tsig-key'
zone-file\t'The zone\'s own file (--zone-file), or an include file per domain (--zone-dir), then --dns-reload-command'
manual\t'Print the records to add and remove; a person or another tool publishes them'
exec\t'Run --publish-command once per change, with the change in its environment'
powerdns\t'PowerDNS Authoritative\'s HTTP API; --credentials: url, api_key, [server_id]'
cloudflare\t'Cloudflare; --credentials: api_token'
route53\t'Amazon Route 53; --credentials: access_key_id, secret_access_key, [session_token], [region], [hosted_zone_id]'
hetzner\t'Hetzner DNS; --credentials: api_token'
digitalocean\t'DigitalOcean; --credentials: api_token'
ovh\t'OVHcloud (endpoint: ovh-eu, ovh-us, ovh-ca, ...); --credentials: application_key, application_secret, consumer_key, [endpoint]'
desec\t'deSEC; --credentials: api_token'
gandi\t'Gandi LiveDNS (api_token: a personal access token); --credentials: api_token'
linode\t'Linode; --credentials: api_token'
vultr\t'Vultr; --credentials: api_key'"
complete -c dkimkit -n "__fish_dkimkit_using_subcommand rotate" -l publish-command -d 'With --publish exec: run this with `sh -c` once per change, with DKIMKIT_ACTION (publish or withdraw), DKIMKIT_NAME, DKIMKIT_ZONE, DKIMKIT_VALUE and DKIMKIT_STRINGS (the value\'s strings of at most 255 bytes, quoted as nsupdate and BIND write them) in its environment. Exit 0: done; 75 (EX_TEMPFAIL): try again at the next run (exit 3); anything else: the entry fails (exit 1)' -r
complete -c dkimkit -n "__fish_dkimkit_using_subcommand rotate" -l rotate-now -d 'Start a rotation of DOMAIN\'s keys now, due or not, as when a key is believed stolen: the old record is withdrawn as soon as the new one is served, with no overlap (repeatable)' -r
complete -c dkimkit -n "__fish_dkimkit_using_subcommand rotate" -l reveal-dir -d 'Write each retired private key into DIR (as DOMAIN.SELECTOR.private, mode 0644) once its overlap has ended, so that old mail can no longer be proven authentic (as dkim-rotate reveals keys)' -r -F
complete -c dkimkit -n "__fish_dkimkit_using_subcommand rotate" -l server -d 'With --publish rfc2136: the primary name server to send updates to' -r
complete -c dkimkit -n "__fish_dkimkit_using_subcommand rotate" -l tsig-key -d 'With --publish rfc2136: the TSIG key, as tsig-keygen writes it' -r -F
complete -c dkimkit -n "__fish_dkimkit_using_subcommand rotate" -l credentials -d 'With --publish PROVIDER (powerdns, cloudflare, ...): the provider\'s credentials, as KEY=VALUE lines (see each provider for its keys), in a file only its owner can read (chmod 600, as a private key). The zone a record goes into is the signing domain, or the zone the first --nameserver says holds it' -r -F
complete -c dkimkit -n "__fish_dkimkit_using_subcommand rotate" -l zone-dir -d 'With --publish zone-file: where to write DOMAIN.dkim, one include file per domain' -r -F
complete -c dkimkit -n "__fish_dkimkit_using_subcommand rotate" -l zone-file -d 'With --publish zone-file: edit the zone\'s own master file, raising its SOA serial in the form it uses (YYYYMMDDnn, counter or Unix time); every other byte is kept (repeatable: one per zone)' -r
complete -c dkimkit -n "__fish_dkimkit_using_subcommand rotate" -l dns-reload-command -d 'With --publish zone-file: run this after writing the zone or include files, such as \'rndc reload\' (once for every file a run writes together)' -r
complete -c dkimkit -n "__fish_dkimkit_using_subcommand rotate" -l nameserver -d 'Check records at this name server (repeatable: list the primary and every secondary). A new record counts as published only when every one serves it, an old one as withdrawn only when none does; the first is also asked where a selector\'s CNAME points [default: the system\'s resolver]' -r
complete -c dkimkit -n "__fish_dkimkit_using_subcommand rotate" -l timeout -d 'How long to wait for a DNS answer, such as 5s or 300ms (not in months or years, whose length varies)' -r
complete -c dkimkit -n "__fish_dkimkit_using_subcommand rotate" -l trust-anchor -d 'Also trust these DNSKEY or DS records, of any zone (several in one file, as dnssec-keygen\'s K*.key, `dig DNSKEY` and unbound\'s anchor file hold them): a zone under one is validated from it, every other zone from the root\'s built-in keys (replaced by a root anchor given here)' -r -F
complete -c dkimkit -n "__fish_dkimkit_using_subcommand rotate" -l max-wait -d 'Wait this long for the name servers to serve a new record or drop an old one; then exit 1 naming the servers behind, so that cron mails someone' -r
complete -c dkimkit -n "__fish_dkimkit_using_subcommand rotate" -l stop-after-steps -d 'Stop after this many steps, as if killed (for testing that every step is resumable)' -r
complete -c dkimkit -n "__fish_dkimkit_using_subcommand rotate" -s v -l verbose -d 'List the settings used'
complete -c dkimkit -n "__fish_dkimkit_using_subcommand rotate" -l dry-run -d 'Print what would be done, and change nothing'
complete -c dkimkit -n "__fish_dkimkit_using_subcommand rotate" -l allow-unsafe-keys -d 'Use a private key that other users could read or replace, with a warning (by default such a key is refused, as opendkim\'s RequireSafeKeys refuses it; fix it with chmod 600)'
complete -c dkimkit -n "__fish_dkimkit_using_subcommand rotate" -l json -d 'Print one JSON document (for logs)'
complete -c dkimkit -n "__fish_dkimkit_using_subcommand rotate" -l revoke -d 'With --rotate-now: replace the old record with one whose p= is empty, which revokes the key (RFC 6376 3.6.1), instead of deleting it'
complete -c dkimkit -n "__fish_dkimkit_using_subcommand rotate" -l no-dnssec -d 'Do not validate DNSSEC'
complete -c dkimkit -n "__fish_dkimkit_using_subcommand rotate" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c dkimkit -n "__fish_dkimkit_using_subcommand rotate" -s V -l version -d 'Print version'
complete -c dkimkit -n "__fish_dkimkit_using_subcommand genzone" -s x -l config -d 'Read the keys from this opendkim.conf when no DATASET is given: its KeyTable, or its Domain, Selector and KeyFile [default: /etc/opendkim.conf, if it exists]' -r -F
complete -c dkimkit -n "__fish_dkimkit_using_subcommand genzone" -s d -l domain -d 'Only the keys of this domain' -r
complete -c dkimkit -n "__fish_dkimkit_using_subcommand genzone" -s t -l ttl -d 'Put this TTL on every record, in seconds' -r
complete -c dkimkit -n "__fish_dkimkit_using_subcommand genzone" -s N -l nameservers -d 'Name servers, separated by commas: NS records before the TXT records; the first is the SOA\'s primary and, with -u, the server nsupdate sends to [default: this host]' -r
complete -c dkimkit -n "__fish_dkimkit_using_subcommand genzone" -s C -l contact -d 'The SOA\'s contact, as an address (hostmaster@example.com) [default: hostmaster at this host]' -r
complete -c dkimkit -n "__fish_dkimkit_using_subcommand genzone" -s r -l refresh -d 'The SOA\'s refresh time, in seconds' -r
complete -c dkimkit -n "__fish_dkimkit_using_subcommand genzone" -s R -l retry -d 'The SOA\'s retry time, in seconds' -r
complete -c dkimkit -n "__fish_dkimkit_using_subcommand genzone" -s E -l expire -d 'The SOA\'s expire time, in seconds' -r
complete -c dkimkit -n "__fish_dkimkit_using_subcommand genzone" -s T -l default-ttl -d 'The SOA\'s default TTL, in seconds; also the TTL of -u\'s records when -t is not given' -r
complete -c dkimkit -n "__fish_dkimkit_using_subcommand genzone" -s o -l output -d 'Write to FILE instead of standard output (replaced atomically)' -r -F
complete -c dkimkit -n "__fish_dkimkit_using_subcommand genzone" -s s -l subdomains -d 'With -d: its subdomains\' keys too (without -d, ignored, as by opendkim-genzone)'
complete -c dkimkit -n "__fish_dkimkit_using_subcommand genzone" -s D -l domainkey-suffix -d 'Name records SELECTOR._domainkey, for the domain\'s own zone [default: SELECTOR, for a _domainkey.DOMAIN zone]'
complete -c dkimkit -n "__fish_dkimkit_using_subcommand genzone" -s F -l fully-qualified -d 'Name records SELECTOR._domainkey.DOMAIN., fully qualified'
complete -c dkimkit -n "__fish_dkimkit_using_subcommand genzone" -s M -l email-only -d 'Restrict the keys to email (s=email)'
complete -c dkimkit -n "__fish_dkimkit_using_subcommand genzone" -s S -l soa -d 'Write an SOA record at the top (serial: the current hour, YYYYMMDDHH, UTC); ignored with -u, as by opendkim-genzone'
complete -c dkimkit -n "__fish_dkimkit_using_subcommand genzone" -s u -l nsupdate -d 'Write a script for nsupdate instead of zone data'
complete -c dkimkit -n "__fish_dkimkit_using_subcommand genzone" -l allow-unsafe-keys -d 'Use a private key that other users could read or replace, with a warning (by default such a key is refused, as opendkim\'s RequireSafeKeys refuses it; fix it with chmod 600)'
complete -c dkimkit -n "__fish_dkimkit_using_subcommand genzone" -s v -l verbose -d 'Say what is done, on standard error: the opendkim.conf settings used, keys skipped, the number of records'
complete -c dkimkit -n "__fish_dkimkit_using_subcommand genzone" -l json -d 'Print one JSON document with every key\'s record instead'
complete -c dkimkit -n "__fish_dkimkit_using_subcommand genzone" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c dkimkit -n "__fish_dkimkit_using_subcommand genzone" -s V -l version -d 'Print version'
complete -c dkimkit -n "__fish_dkimkit_using_subcommand record" -s k -l key -d 'The private key file: PEM, DER, or a base64 Ed25519 seed' -r -F
complete -c dkimkit -n "__fish_dkimkit_using_subcommand record" -s d -l domain -d 'The signing domain (named in the comment, and with -a in the record\'s name)' -r
complete -c dkimkit -n "__fish_dkimkit_using_subcommand record" -s s -l selector -d 'The selector' -r
complete -c dkimkit -n "__fish_dkimkit_using_subcommand record" -s h -l hash-algorithms -d 'Hash algorithms the key may be used with (h=), separated by \':\'; "rsa-sha256" means sha256, sha1 is refused (RFC 8301)' -r
complete -c dkimkit -n "__fish_dkimkit_using_subcommand record" -s n -l note -d 'A note for people reading the record (n=)' -r
complete -c dkimkit -n "__fish_dkimkit_using_subcommand record" -l format -d 'Print the record(s) on standard output in this format' -r -f -a "bind\t'The BIND zone-file entry, as SELECTOR.txt holds it'
value\t'The record as one line without quotes, for DNS providers\' web forms'
json\t'JSON: name, value, strings, key type and bits, file paths'"
complete -c dkimkit -n "__fish_dkimkit_using_subcommand record" -l allow-unsafe-keys -d 'Use a private key that other users could read or replace, with a warning (by default such a key is refused, as opendkim\'s RequireSafeKeys refuses it; fix it with chmod 600)'
complete -c dkimkit -n "__fish_dkimkit_using_subcommand record" -l help -d 'Print help (-h is --hash-algorithms, as in genkey)'
complete -c dkimkit -n "__fish_dkimkit_using_subcommand record" -s a -l append-domain -d 'Write the record\'s name fully qualified (SELECTOR._domainkey.DOMAIN.), not relative to the zone'
complete -c dkimkit -n "__fish_dkimkit_using_subcommand record" -s r -l restrict -d 'Restrict the key to email (s=email)'
complete -c dkimkit -n "__fish_dkimkit_using_subcommand record" -s S -l nosubdomains -d 'Forbid signing for subdomains: i= must be in exactly the d= domain (t=s)'
complete -c dkimkit -n "__fish_dkimkit_using_subcommand record" -l subdomains -d 'Allow signing for subdomains (the default; kept for opendkim-genkey\'s flag)'
complete -c dkimkit -n "__fish_dkimkit_using_subcommand record" -s t -l testmode -d 'Mark the domain as testing DKIM (t=y)'
complete -c dkimkit -n "__fish_dkimkit_using_subcommand record" -l notestmode -d 'Do not mark the domain as testing (the default; opendkim-genkey\'s flag): the last of -t and --notestmode wins'
complete -c dkimkit -n "__fish_dkimkit_using_subcommand record" -l json -d 'Print JSON (the same as --format json)'
complete -c dkimkit -n "__fish_dkimkit_using_subcommand record" -s V -l version -d 'Print version'
complete -c dkimkit -n "__fish_dkimkit_using_subcommand help; and not __fish_seen_subcommand_from genkey sign-file verify-file testkey check rotate genzone record help" -f -a "genkey" -d 'Generate key pairs and their DNS records (a drop-in for opendkim-genkey)'
complete -c dkimkit -n "__fish_dkimkit_using_subcommand help; and not __fish_seen_subcommand_from genkey sign-file verify-file testkey check rotate genzone record help" -f -a "sign-file" -d 'Sign message files (DKIM, RFC 6376 and 8463)'
complete -c dkimkit -n "__fish_dkimkit_using_subcommand help; and not __fish_seen_subcommand_from genkey sign-file verify-file testkey check rotate genzone record help" -f -a "verify-file" -d 'Verify the DKIM signatures of message files'
complete -c dkimkit -n "__fish_dkimkit_using_subcommand help; and not __fish_seen_subcommand_from genkey sign-file verify-file testkey check rotate genzone record help" -f -a "testkey" -d 'Check published keys in DNS: one key, or every key of a KeyTable (opendkim-testkey)'
complete -c dkimkit -n "__fish_dkimkit_using_subcommand help; and not __fish_seen_subcommand_from genkey sign-file verify-file testkey check rotate genzone record help" -f -a "check" -d 'Check every mail DNS record of domains: SPF, DMARC, DKIM, MX, reverse DNS, MTA-STS, TLS-RPT'
complete -c dkimkit -n "__fish_dkimkit_using_subcommand help; and not __fish_seen_subcommand_from genkey sign-file verify-file testkey check rotate genzone record help" -f -a "rotate" -d 'Rotate keys on opendkim\'s KeyTable, safely under cron'
complete -c dkimkit -n "__fish_dkimkit_using_subcommand help; and not __fish_seen_subcommand_from genkey sign-file verify-file testkey check rotate genzone record help" -f -a "genzone" -d 'Write the records of every KeyTable key as zone data or nsupdate input (opendkim-genzone)'
complete -c dkimkit -n "__fish_dkimkit_using_subcommand help; and not __fish_seen_subcommand_from genkey sign-file verify-file testkey check rotate genzone record help" -f -a "record" -d 'Print the DNS record of an existing private key'
complete -c dkimkit -n "__fish_dkimkit_using_subcommand help; and not __fish_seen_subcommand_from genkey sign-file verify-file testkey check rotate genzone record help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
