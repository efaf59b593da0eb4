<?cs include!"macros.cs" ?><?cs include!"pages_macros.cs" ?>
<?cs def:content() ?>
<div class="page-head">
  <h1>Activate your token</h1>
  <p class="lead">Token <span class="mono" id="serial"><?cs var:Token.serial ?></span><?cs
  if:Token.description ?> (<?cs var:Token.description ?>)<?cs /if ?>: scan the code,
  then type the first code your app shows. This page is shown only until the
  token is active (at the latest <?cs var:Token.expires ?>).</p>
</div>

<?cs if:Enroll.nondefault == 1 ?>
<p class="notice warn" id="nondefault-warning">You chose settings other than
SHA1, 6 digits<?cs if:Token.type == "totp" ?>, 30 seconds<?cs /if ?>
(<?cs var:Token.algorithm ?>, <?cs var:Token.digits ?> digits<?cs if:Token.type == "totp" ?>,
<?cs var:Token.period ?> seconds<?cs /if ?>). Many apps ignore them and show codes that never
work; if the first code is refused, enroll again with the recommended settings.</p>
<?cs /if ?>

<div class="enroll-grid">
  <section class="card qr-card">
    <h2>1. Scan</h2>
    <div id="qr" class="qr"><?cs escape:"none" ?><?cs var:Enroll.qr_svg ?><?cs /escape ?></div>
    <p class="small">On a phone? <a id="otpauth-uri" href="<?cs var:Enroll.uri ?>">Open in your authenticator app</a>.</p>
  </section>

  <section class="card">
    <h2>How to add it</h2>
    <ul class="howto">
      <li><strong>Google Authenticator:</strong> tap <em>+</em>, then <em>Scan a QR code</em>.</li>
      <li><strong>Microsoft Authenticator:</strong> tap <em>+</em>, <em>Other account</em>, then scan.</li>
      <li><strong>Authy:</strong> tap <em>+</em> (Add account), then <em>Scan QR code</em>.</li>
      <li><strong>Cannot scan?</strong> Choose to enter a setup key by hand, type
      <?cs if:Token.type == "totp" ?><em>time-based</em><?cs else ?><em>counter-based</em><?cs /if ?>
      and the key below (spaces do not matter).</li>
    </ul>
    <dl class="secret-box">
      <dt>Setup key (Base32)</dt>
      <dd><code id="secret-base32" class="secret"><?cs var:Enroll.secret_base32 ?></code></dd>
      <dt>Same key in hex <span class="muted">(for hardware and some tools)</span></dt>
      <dd><code id="secret-hex" class="secret small"><?cs var:Enroll.secret_hex ?></code></dd>
      <dt>Settings</dt>
      <dd><?cs var:Token.algorithm ?>, <?cs var:Token.digits ?> digits<?cs if:Token.type == "totp" ?>, <?cs var:Token.period ?> seconds<?cs else ?>, counter starts at 0<?cs /if ?></dd>
    </dl>
    <p class="small muted">Keep this key to yourself: anyone who has it can make your codes.
    It will not be shown again once the token is active.</p>
  </section>
</div>

<section class="card">
  <h2>2. Type the first code</h2>
  <form method="post" action="/enroll/activate/<?cs var:Token.serial ?>" class="row">
    <?cs call:csrf() ?>
    <?cs call:code_input("code", "code", "Code from your app", Token.digits, 1) ?>
    <button type="submit" class="primary">Activate</button>
  </form>
</section>
<?cs /def ?>
<?cs include!"layout.cs" ?>
