<?cs include!"macros.cs" ?><?cs include!"pages_macros.cs" ?>
<?cs def:action_form(action, label, cls) ?>
  <form method="post" action="/tokens/<?cs var:Token.serial ?>" class="inline">
    <?cs call:csrf() ?>
    <input type="hidden" name="action" value="<?cs var:action ?>">
    <button type="submit" class="<?cs var:cls ?>"><?cs var:label ?></button>
  </form>
<?cs /def ?>
<?cs def:content() ?>
<p class="back"><a href="/">&larr; My tokens</a></p>
<div class="page-head">
  <h1>Token <span class="mono" id="serial"><?cs var:Token.serial ?></span></h1>
  <p class="lead"><?cs call:type_name(Token.type) ?> &middot; <span id="status"><?cs call:status_badge(Token.status) ?></span></p>
</div>

<?cs if:Confirm.delete == 1 ?>
<section class="card danger" id="confirm-delete">
  <h2>Delete this token?</h2>
  <p>Token <strong><?cs var:Token.serial ?></strong><?cs if:Token.description ?>
  (<?cs var:Token.description ?>)<?cs /if ?> will stop working at once and cannot be
  brought back. If it is your only token you will sign in with your password alone
  until you add another.</p>
  <form method="post" action="/tokens/<?cs var:Token.serial ?>" class="buttons">
    <?cs call:csrf() ?>
    <input type="hidden" name="action" value="delete">
    <input type="hidden" name="confirm" value="yes">
    <button type="submit" class="danger">Yes, delete it</button>
    <a class="button secondary" href="/tokens/<?cs var:Token.serial ?>">Keep it</a>
  </form>
</section>
<?cs /if ?>

<section class="card">
  <h2>Details</h2>
  <dl class="details">
    <dt>Description</dt><dd id="description"><?cs if:Token.description ?><?cs var:Token.description ?><?cs else ?><span class="muted">none</span><?cs /if ?></dd>
    <dt>Created</dt><dd><?cs var:Token.created ?></dd>
    <dt>Last used</dt><dd><?cs var:Token.last_used ?></dd><?cs
    if:Token.type == "email" ?>
    <dt>Sends codes to</dt><dd><?cs var:Token.email ?></dd><?cs
    else ?>
    <dt>Code</dt><dd><?cs var:Token.digits ?> digits, <?cs var:Token.algorithm ?><?cs if:Token.type == "totp" ?>, every <?cs var:Token.period ?> seconds<?cs /if ?></dd><?cs
    /if ?><?cs if:Token.pin_allowed == 1 ?>
    <dt>PIN</dt><dd id="pin-state"><?cs if:Token.has_pin == 1 ?>set<?cs else ?>not set<?cs /if ?></dd><?cs /if ?>
  </dl>
  <?cs if:Token.status == "pending" ?>
  <p class="notice warn">This token waits for its first code.
    <a href="/enroll/activate/<?cs var:Token.serial ?>">Activate it</a>.</p>
  <?cs /if ?>
</section>

<section class="card">
  <h2>Description</h2>
  <form method="post" action="/tokens/<?cs var:Token.serial ?>">
    <?cs call:csrf() ?>
    <input type="hidden" name="action" value="rename">
    <div class="field<?cs if:Errors.description ?> has-error<?cs /if ?>">
      <label for="description-input">A name to tell your tokens apart</label>
      <input id="description-input" name="description" type="text" maxlength="128"
        value="<?cs if:Errors.description ?><?cs var:Query.description ?><?cs else ?><?cs var:Token.description ?><?cs /if ?>"
        placeholder="e.g. Work phone"<?cs if:Errors.description ?> aria-invalid="true" aria-describedby="description-error"<?cs /if ?>>
      <?cs call:field_error("description") ?>
    </div>
    <button type="submit" class="primary">Save</button>
  </form>
</section>

<?cs if:Token.status != "pending" && Token.status != "expired" ?>
<section class="card">
  <h2>Test a code</h2>
<?cs if:Token.type == "email" ?>
  <p>An e-mail token's code is only good as the answer to a code we mail
  you. To test it, sign out, sign in and choose “Send a code to my
  e-mail”.</p>
<?cs else ?>
  <p>Check that the token works: type the code it shows now.</p>
  <form method="post" action="/tokens/<?cs var:Token.serial ?>" class="row">
    <?cs call:csrf() ?>
    <input type="hidden" name="action" value="test">
    <?cs call:code_input("test-code", "code", "Code", Token.digits, Failed == "test") ?>
    <button type="submit" class="primary">Test</button>
  </form>
<?cs /if ?>
</section>

<?cs if:Token.type == "hotp" ?>
<section class="card">
  <h2>Resynchronise</h2>
  <p>If the token was pressed many times without signing in, its codes run
  ahead. Press it twice and enter both codes, in order.</p>
  <form method="post" action="/tokens/<?cs var:Token.serial ?>" class="row">
    <?cs call:csrf() ?>
    <input type="hidden" name="action" value="resync">
    <?cs call:code_input("resync-code", "code", "First code", Token.digits, Failed == "resync") ?>
    <?cs call:code_input("resync-code2", "code2", "Next code", Token.digits, Failed == "resync") ?>
    <button type="submit" class="primary">Resynchronise</button>
  </form>
</section>
<?cs /if ?>

<?cs if:Token.pin_allowed == 1 ?>
<section class="card">
  <h2><?cs if:Token.has_pin == 1 ?>Change the PIN<?cs else ?>Set a PIN<?cs /if ?></h2>
  <p>With a PIN, you type the PIN and then the code (for example
  <span class="mono">1234</span><span class="mono">567890</span>) where this token is asked for.</p>
  <form method="post" action="/tokens/<?cs var:Token.serial ?>">
    <?cs call:csrf() ?>
    <input type="hidden" name="action" value="pin">
    <div class="field<?cs if:Errors.pin ?> has-error<?cs /if ?>">
      <label for="pin">New PIN</label>
      <input id="pin" name="pin" type="password" autocomplete="new-password" minlength="4" maxlength="64"<?cs if:Errors.pin ?> aria-invalid="true" aria-describedby="pin-error"<?cs /if ?>>
      <?cs call:field_error("pin") ?>
    </div>
    <div class="field<?cs if:Errors.pin2 ?> has-error<?cs /if ?>">
      <label for="pin2">The same PIN again</label>
      <input id="pin2" name="pin2" type="password" autocomplete="new-password" minlength="4" maxlength="64"<?cs if:Errors.pin2 ?> aria-invalid="true" aria-describedby="pin2-error"<?cs /if ?>>
      <?cs call:field_error("pin2") ?>
    </div>
    <button type="submit" class="primary">Save PIN</button>
  </form>
  <?cs if:Token.has_pin == 1 ?><?cs call:action_form("pin_clear", "Remove the PIN", "secondary") ?><?cs /if ?>
</section>
<?cs /if ?>
<?cs /if ?>

<section class="card">
  <h2>Manage</h2>
  <div class="buttons"><?cs
    if:Token.status == "disabled" ?><?cs call:action_form("enable", "Enable", "primary") ?><?cs
    elif:Token.status == "active" || Token.status == "locked" ?><?cs call:action_form("disable", "Disable", "secondary") ?><?cs
    /if ?><?cs if:Confirm.delete != 1 ?><?cs call:action_form("delete", "Delete…", "danger") ?><?cs /if ?>
  </div>
  <?cs if:Token.status == "locked" ?><p class="notice warn">Too many wrong codes locked this
  token for a while. Wait, or ask the helpdesk to unlock it.</p><?cs /if ?>
</section>

<section class="card">
  <h2>Recent activity</h2>
  <?cs if:EventCount == 0 ?><p class="muted">Nothing yet.</p><?cs else ?>
  <table class="events responsive" id="events">
    <thead><tr><th scope="col">When</th><th scope="col">What</th><th scope="col">Result</th><th scope="col">By</th><th scope="col">From</th></tr></thead>
    <tbody><?cs each:e = Events ?>
      <tr><td data-label="When"><?cs var:e.time ?></td><td data-label="What"><?cs var:e.action ?></td>
      <td data-label="Result"><span class="result result-<?cs var:e.result ?>"><?cs var:e.result ?></span></td>
      <td data-label="By"><?cs var:e.actor ?></td><td data-label="From"><?cs var:e.source ?></td></tr><?cs /each ?>
    </tbody>
  </table>
  <?cs /if ?>
</section>
<?cs /def ?>
<?cs include!"layout.cs" ?>
