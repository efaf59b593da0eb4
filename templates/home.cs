<?cs include!"macros.cs" ?><?cs include!"pages_macros.cs" ?>
<?cs def:content() ?>
<div class="page-head">
  <h1>My tokens</h1>
  <p class="lead">The tokens that prove it is you when you sign in. Keep at
  least one active; remove the ones you no longer have.</p>
</div>

<?cs if:TokenCount == 0 ?>
<section class="card empty">
  <h2>You have no token yet</h2>
  <p>Add one now: an authenticator app on your phone is the usual choice.</p>
</section>
<?cs else ?>
<section class="card">
  <table class="tokens responsive" id="tokens">
    <caption class="sr-only">Your tokens</caption>
    <thead>
      <tr><th scope="col">Token</th><th scope="col">Type</th>
      <th scope="col">Status</th><th scope="col">Created</th>
      <th scope="col">Last used</th><th scope="col"><span class="sr-only">Actions</span></th></tr>
    </thead>
    <tbody><?cs each:t = Tokens ?>
      <tr class="token" data-serial="<?cs var:t.serial ?>">
        <td data-label="Token"><a class="serial" href="/tokens/<?cs var:t.serial ?>"><?cs var:t.serial ?></a><?cs
          if:t.description ?><div class="description"><?cs var:t.description ?></div><?cs /if ?></td>
        <td data-label="Type"><?cs call:type_name(t.type) ?></td>
        <td data-label="Status"><?cs call:status_badge(t.status) ?></td>
        <td data-label="Created"><?cs var:t.created ?></td>
        <td data-label="Last used"><?cs var:t.last_used ?></td>
        <td class="actions"><?cs if:t.status == "pending" ?><a class="button small" href="/enroll/activate/<?cs var:t.serial ?>">Activate</a><?cs
          else ?><a class="button small secondary" href="/tokens/<?cs var:t.serial ?>">Manage</a><?cs /if ?></td>
      </tr><?cs /each ?>
    </tbody>
  </table>
</section>
<?cs /if ?>

<section class="card" id="add-token">
  <h2>Add a token</h2>
  <?cs if:Enroll.full == 1 ?>
  <p class="notice warn" id="max-tokens">You have <?cs var:TokenCount ?> tokens, the most
  allowed here (<?cs var:Enroll.max_tokens ?>). Delete one you no longer use to add another.</p>
  <?cs else ?>
  <ul class="choices"><?cs if:Enroll.totp == 1 ?>
    <li><a class="choice" href="/enroll/totp"><strong>Authenticator app</strong>
      <span>Google Authenticator, Microsoft Authenticator, Authy, FreeOTP&hellip;
      Recommended.</span></a></li><?cs /if ?><?cs if:Enroll.hotp == 1 ?>
    <li><a class="choice" href="/enroll/hotp"><strong>Counter-based code (HOTP)</strong>
      <span>For apps and key fobs that make a new code at each press.</span></a></li><?cs /if ?><?cs if:Enroll.email == 1 ?>
    <li><a class="choice" href="/enroll/email"><strong>Code by e-mail</strong>
      <span>The weakest choice: only if you cannot use an app.</span></a></li><?cs /if ?>
  </ul>
  <?cs /if ?>
</section>
<?cs /def ?>
<?cs include!"layout.cs" ?>
