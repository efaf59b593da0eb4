<?cs include!"macros.cs" ?><?cs include!"pages_macros.cs" ?>
<?cs def:content() ?>
<div class="page-head">
  <h1>Activate your e-mail token</h1>
  <p class="lead">Token <span class="mono" id="serial"><?cs var:Token.serial ?></span>:
  we mail a <?cs var:Token.digits ?>-digit code to <strong><?cs var:Token.email ?></strong>.
  Type it below before <?cs var:Token.expires ?>.</p>
</div>
<section class="card">
  <form method="post" action="/enroll/activate/<?cs var:Token.serial ?>" class="row">
    <?cs call:csrf() ?>
    <?cs call:code_input("code", "code", "Code from the mail", Token.digits, 1) ?>
    <button type="submit" class="primary">Activate</button>
  </form>
  <form method="post" action="/enroll/activate/<?cs var:Token.serial ?>" class="resend">
    <?cs call:csrf() ?>
    <input type="hidden" name="action" value="resend">
    <p class="small">No mail after a minute? Check your spam folder, or
    <button type="submit" class="link">send it again</button>.</p>
  </form>
</section>
<?cs /def ?>
<?cs include!"layout.cs" ?>
